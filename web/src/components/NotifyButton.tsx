import { notificationsSupported, toggleNotifications, useNotifyEnabled } from '../lib/finished.ts';

/** Browser notifications on completion or failure: off until the user asks for them. */
export function NotifyButton() {
  const enabled = useNotifyEnabled();
  if (!notificationsSupported()) return null;
  return (
    <button
      type="button"
      className="ghost"
      aria-pressed={enabled}
      onClick={() => void toggleNotifications()}
      title="Notify me when a session completes or fails"
    >
      {enabled ? 'Notifications: on' : 'Notify me'}
    </button>
  );
}
