/**
 * The live dashboard as an ink (React for terminals) component: the lines of renderDashboardLines with color.
 * `q` or Ctrl-C quits when stdin is a terminal. Written with createElement rather than JSX so it runs the same
 * from any working directory (tsx picks the JSX transform from the tsconfig of the current directory).
 */
import { Box, Text, useApp, useInput, useStdin } from 'ink';
import { createElement as h, type ReactElement } from 'react';
import { renderDashboardLines } from './render.js';
import type { Snapshot } from './snapshot.js';

export interface DashboardProps {
  snapshot: Snapshot | null;
  /** Seconds between polls, shown in the footer. */
  intervalSec: number;
  notes?: readonly string[];
}

function QuitKey(): null {
  const { exit } = useApp();
  useInput((input) => {
    if (input === 'q') exit();
  });
  return null;
}

export function Dashboard({ snapshot, intervalSec, notes = [] }: DashboardProps): ReactElement {
  const { isRawModeSupported } = useStdin();
  const lines = snapshot === null ? [{ text: 'Polling nodes...' }] : renderDashboardLines(snapshot);
  return h(
    Box,
    { flexDirection: 'column' },
    isRawModeSupported ? h(QuitKey) : null,
    ...lines.map((line, i) => h(Text, { key: `l${i}`, color: 'color' in line ? line.color : undefined, bold: 'bold' in line ? line.bold : undefined }, line.text === '' ? ' ' : line.text)),
    ...notes.map((note, i) => h(Text, { key: `n${i}`, color: 'gray' }, note)),
    h(Text, { key: 'footer', color: 'gray' }, `Refreshing every ${intervalSec}s${isRawModeSupported ? ' - press q to quit' : ' - Ctrl-C to quit'}`),
  );
}
