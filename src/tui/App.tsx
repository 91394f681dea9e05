import { Box, Text, useApp, useInput, useWindowSize } from 'ink';
import { useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { alertLabel, attentionQueue } from '../shared/attention.ts';
import type { PlanActionName } from '../shared/plan-actions.ts';
import { groupLabel, groupsOf, nextGroup, orderPlans, type PlanFilter } from './order.ts';
import type { DashboardController } from './state.ts';
import { ActionPanel } from './views/ActionPanel.tsx';
import { AttentionView, sinceText } from './views/AttentionView.tsx';
import { BuildsView } from './views/BuildsView.tsx';
import { Footer } from './views/Footer.tsx';
import { HelpView } from './views/HelpView.tsx';
import { PlanDetailView } from './views/PlanDetailView.tsx';
import { PlansList } from './views/PlansList.tsx';

type Screen = 'plans' | 'plan' | 'builds' | 'attention' | 'help';

/**
 * Where the user was: kept outside the Ink tree so that, when the dashboard
 * steps aside for an interactive command and is drawn again, it comes back on
 * the same screen with the same cursor and open plan.
 */
export interface ViewMemory {
  screen: Screen;
  back: Screen;
  planCursor: number;
  filter: PlanFilter;
  openId: string | null;
  rowCursor: number;
  buildCursor: number;
  alertCursor: number;
}

/** A fresh memory: the plans list, first row. */
export function newViewMemory(): ViewMemory {
  return {
    screen: 'plans',
    back: 'plans',
    planCursor: 0,
    filter: { group: 'all', query: '' },
    openId: null,
    rowCursor: 0,
    buildCursor: 0,
    alertCursor: 0,
  };
}

const HINTS: Record<Screen, string> = {
  plans:
    'jk/PgUp/PgDn move · Enter open · / search · g group · Tab builds · ! attention · ? help · q quit',
  plan: '↑↓/jk move · n/s/e actions · b back · r refresh · ! attention · ? help · q quit',
  builds: '↑↓/jk move · Tab/b plans · ! attention · r refresh · ? help · q quit',
  attention: '↑↓/jk move · a acknowledge · z snooze 30m · Z snooze 4h · b back · ? help · q quit',
  help: 'b back · q quit',
};

const TITLES: Record<Screen, string> = {
  plans: 'Plans',
  plan: 'Plan',
  builds: 'Builds',
  attention: 'Attention',
  help: 'Help',
};

const ACTION_KEYS: Record<string, PlanActionName> = {
  n: 'executeNext',
  s: 'createSubplan',
  e: 'createExecution',
};

/**
 * The plan dashboard. It renders the store's state and turns keys into the
 * host's actions; it starts no I/O itself.
 */
export function App({
  controller,
  now = Date.now,
  memory,
}: {
  controller: DashboardController;
  now?: () => number;
  /** Survives a remount (the hand-over to an interactive command). */
  memory?: ViewMemory;
}) {
  const [start] = useState(() => memory ?? newViewMemory());
  const state = useSyncExternalStore(controller.subscribe, controller.getState);
  const { exit } = useApp();
  const { rows, columns } = useWindowSize();
  const [screen, setScreen] = useState<Screen>(start.screen);
  const [back, setBack] = useState<Screen>(start.back);
  const [planCursor, setPlanCursor] = useState(start.planCursor);
  const [filter, setFilter] = useState<PlanFilter>(start.filter);
  const [searching, setSearchingState] = useState(false);
  // A burst of keys ("/ab", "jn") is handled before the next render: the mode
  // and the selected row each key sees must be what the keys before it left.
  const searchingNow = useRef(false);
  const setSearching = (on: boolean) => {
    searchingNow.current = on;
    setSearchingState(on);
  };
  const [openId, setOpenId] = useState<string | null>(start.openId);
  const [rowCursor, setRowCursor] = useState(start.rowCursor);
  const [buildCursor, setBuildCursor] = useState(start.buildCursor);
  const [alertCursor, setAlertCursor] = useState(start.alertCursor);
  useEffect(() => {
    if (memory) {
      Object.assign(memory, {
        screen,
        back,
        planCursor,
        filter,
        openId,
        rowCursor,
        buildCursor,
        alertCursor,
      });
    }
  }, [memory, screen, back, planCursor, filter, openId, rowCursor, buildCursor, alertCursor]);
  // Alert ages ("since 12:03 (4m)") move on while alerts are open, even when nothing else changes.
  const [, setTick] = useState(0);
  const ticking = (state.builds.alerts?.length ?? 0) > 0;
  useEffect(() => {
    if (!ticking) return;
    const timer = setInterval(() => setTick((n) => n + 1), 5000);
    return () => clearInterval(timer);
  }, [ticking]);
  const nowMs = now();
  // What needs a person first; snoozes that ran out are back on the next render.
  const queue = attentionQueue(state.builds.alerts ?? [], nowMs);
  const selectedAlert = Math.min(alertCursor, Math.max(0, queue.length - 1));
  const alertNow = useRef(selectedAlert);
  alertNow.current = selectedAlert;

  const plans = useMemo(() => orderPlans(state.plans, filter), [state.plans, filter]);
  const plan = openId === null ? undefined : state.plans.find((p) => p.id === openId);
  const shownScreen: Screen = screen === 'plan' && !plan ? 'plans' : screen;
  const selectedPlan = Math.min(planCursor, Math.max(0, plans.length - 1));
  const rowCount = plan?.achievements.length ?? 0;
  const selectedRow = Math.min(rowCursor, Math.max(0, rowCount - 1));
  const rowNow = useRef(selectedRow);
  rowNow.current = selectedRow;
  const moveRow = (by: number) => {
    const row = Math.max(0, Math.min(rowCount - 1, rowNow.current + by));
    rowNow.current = row;
    setRowCursor(row);
  };

  // Keys typed faster than a frame arrive as one string ("jjj", "0\r"): each
  // counts, and Enter, Backspace and Tab inside the burst keep their meaning.
  useInput((input, key) => {
    const chars = [...input];
    if (chars.length > 1 && !key.ctrl && !key.meta) {
      for (const ch of chars) handleKey(...burstKey(ch, key));
    } else handleKey(input, key);
  });

  function handleKey(input: string, key: Parameters<Parameters<typeof useInput>[0]>[1]) {
    if (searchingNow.current) {
      if (key.return || key.escape) {
        setSearching(false);
        if (key.escape) setFilter((f) => ({ ...f, query: '' }));
      } else if (key.backspace || key.delete) {
        setFilter((f) => ({ ...f, query: f.query.slice(0, -1) }));
      } else if (input && !key.ctrl && !key.meta) {
        setFilter((f) => ({ ...f, query: f.query + input }));
        setPlanCursor(0);
      }
      return;
    }
    if (input === 'q' || (key.ctrl && input === 'c')) {
      exit();
      return;
    }
    if (input === 'r') {
      void controller.refresh();
      return;
    }
    if (input === '?') {
      if (shownScreen === 'help') setScreen(back);
      else {
        setBack(shownScreen);
        setScreen('help');
      }
      return;
    }
    if (input === 'x') {
      controller.dismissAction();
      return;
    }
    const up = key.upArrow || input === 'k';
    const down = key.downArrow || input === 'j';
    const isBack = input === 'b' || key.escape;
    if (shownScreen === 'help') {
      if (isBack) setScreen(back);
      return;
    }
    if (shownScreen === 'attention') {
      const alert = queue[alertNow.current];
      if (isBack) setScreen(back === 'attention' ? 'plans' : back);
      else if (up || down) {
        const next = Math.max(0, Math.min(queue.length - 1, alertNow.current + (up ? -1 : 1)));
        alertNow.current = next;
        setAlertCursor(next);
      } else if (input === 'a' && alert) controller.acknowledge?.(alert.id);
      else if (input === 'z' && alert) controller.snooze?.(alert.id, 30);
      else if (input === 'Z' && alert) controller.snooze?.(alert.id, 240);
      return;
    }
    if (input === '!') {
      setBack(shownScreen);
      setScreen('attention');
      return;
    }
    if (key.tab) {
      setScreen(shownScreen === 'builds' ? 'plans' : 'builds');
      return;
    }
    if (shownScreen === 'plans') {
      // Functional updates: several keys before one render each move one row.
      const last = Math.max(0, plans.length - 1);
      const page = Math.max(1, body - 1);
      const move = (by: number) =>
        setPlanCursor((c) => Math.max(0, Math.min(last, Math.min(c, last) + by)));
      if (up) move(-1);
      else if (down) move(1);
      else if (key.pageUp) move(-page);
      else if (key.pageDown) move(page);
      else if (key.home) setPlanCursor(0);
      else if (key.end) setPlanCursor(last);
      else if (input === '/') setSearching(true);
      else if (input === 'g') {
        setFilter((f) => ({ ...f, group: nextGroup(groupsOf(state.plans), f.group) }));
        setPlanCursor(0);
      } else if (key.escape && (filter.query || filter.group !== 'all')) {
        setFilter({ group: 'all', query: '' });
      } else if (key.return && plans[selectedPlan]) {
        setOpenId(plans[selectedPlan].id);
        setRowCursor(0);
        rowNow.current = 0;
        setScreen('plan');
      }
      return;
    }
    if (shownScreen === 'builds') {
      if (isBack) setScreen('plans');
      else if (up) setBuildCursor((c) => Math.max(0, c - 1));
      else if (down) setBuildCursor((c) => Math.min(state.builds.sessions.length - 1, c + 1));
      return;
    }
    if (shownScreen === 'plan' && plan) {
      if (isBack) setScreen('plans');
      else if (up) moveRow(-1);
      else if (down) moveRow(1);
      else if (ACTION_KEYS[input]) {
        void controller.run(plan.id, ACTION_KEYS[input], plan.achievements[rowNow.current]?.id);
      }
    }
  }

  // Keep the frame shorter than the terminal: Ink clears the whole screen otherwise.
  const actionLines = state.action ? Math.min(8, state.action.lines.length) : 0;
  const actionHeight = state.action ? actionLines + (state.action.argv.length > 0 ? 4 : 3) : 0;
  const notices = state.notices.slice(-2);
  const top = queue[0];
  const banner = top && shownScreen !== 'attention' && shownScreen !== 'help';
  const body = Math.max(
    3,
    rows - 3 - actionHeight - notices.length - (state.error ? 1 : 0) - (banner ? 1 : 0),
  );
  const title = TITLES[shownScreen];
  // Where the plans come from: this folder, or the server given with --connect.
  const where =
    state.watch.mode === 'server' ? `from ${state.builds.url ?? 'the server'}` : state.plansDir;

  return (
    <Box flexDirection="column" width={columns}>
      <Text wrap="truncate">
        <Text bold color="cyan">
          Livestream · {title}
        </Text>
        <Text color="gray">
          {' '}
          {plans.length} plan{plans.length === 1 ? '' : 's'}
          {filter.group === 'all' ? '' : ` in ${groupLabel(filter.group)}`}
          {filter.query || searching ? ` matching "${filter.query}${searching ? '▏' : ''}"` : ''} ·{' '}
          {state.loadedAt === null
            ? 'reading…'
            : state.watch.mode === 'poll'
              ? `polling every ${(state.watch.pollMs ?? 0) / 1000}s`
              : state.watch.mode === 'server'
                ? 'live'
                : 'watching'}{' '}
          · {where}
        </Text>
      </Text>
      {banner && top ? (
        <Text color={top.severity === 'critical' ? 'red' : 'yellow'} wrap="truncate">
          ⚠ {queue.length} need{queue.length === 1 ? 's' : ''} you: {top.sessionId} —{' '}
          {alertLabel(top.kind)} {sinceText(top.since, nowMs)} · ! to see
        </Text>
      ) : null}
      {notices.map((n) => (
        <Text key={n} color="yellow" wrap="truncate">
          {n}
        </Text>
      ))}
      {state.error ? (
        <Text color="red" wrap="truncate">
          {state.error}
        </Text>
      ) : null}
      <Box flexDirection="column" height={body}>
        {shownScreen === 'plans' ? (
          <PlansList
            plans={plans}
            cursor={selectedPlan}
            height={body}
            width={columns}
            loaded={state.loadedAt !== null}
            where={where}
            now={nowMs}
          />
        ) : shownScreen === 'plan' && plan ? (
          <PlanDetailView
            plan={plan}
            cursor={selectedRow}
            height={body}
            width={columns}
            actionBusy={state.action?.running ?? false}
          />
        ) : shownScreen === 'attention' ? (
          <AttentionView
            queue={queue}
            connected={state.builds.status === 'connected'}
            url={state.builds.url}
            cursor={selectedAlert}
            height={body}
            width={columns}
            now={nowMs}
          />
        ) : shownScreen === 'builds' ? (
          <BuildsView builds={state.builds} cursor={buildCursor} height={body} width={columns} />
        ) : (
          <HelpView
            config={state.config}
            watch={
              state.watch.mode === 'poll'
                ? `polling every ${state.watch.pollMs} ms`
                : state.watch.mode === 'server'
                  ? `the server ${state.builds.url}`
                  : 'file events'
            }
          />
        )}
      </Box>
      {state.action ? <ActionPanel run={state.action} lines={actionLines} /> : null}
      <Footer
        loadedAt={state.loadedAt}
        changedAt={plans.reduce<number | null>(
          (m, p) => (m === null || p.changedAt > m ? p.changedAt : m),
          null,
        )}
        sourceError={state.error}
        refreshing={state.refreshing}
        hints={HINTS[shownScreen]}
        now={now}
      />
    </Box>
  );
}

type InkKey = Parameters<Parameters<typeof useInput>[0]>[1];

/** One character of a burst as Ink would have reported it alone. */
function burstKey(ch: string, burst: InkKey): [string, InkKey] {
  const plain = Object.fromEntries(Object.keys(burst).map((k) => [k, false])) as unknown as InkKey;
  if (ch === '\r' || ch === '\n') return ['', { ...plain, return: true }];
  if (ch === '\x7f' || ch === '\b') return ['', { ...plain, backspace: true }];
  if (ch === '\t') return ['', { ...plain, tab: true }];
  return [ch, plain];
}
