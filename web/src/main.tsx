import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { LivestreamClient } from '../../src/client/index.ts';
import { App } from './App.tsx';
import { LiveProvider, wsUrl } from './lib/live.tsx';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html lacks #root');

const client = new LivestreamClient({ url: () => wsUrl() });
client.connect();

createRoot(root).render(
  <StrictMode>
    <LiveProvider client={client}>
      <App />
    </LiveProvider>
  </StrictMode>,
);
