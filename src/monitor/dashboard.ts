/**
 * The live dashboard as an ink (React for terminals) component: the lines of renderDashboardLines with color.
 * `q` or Ctrl-C quits when stdin is a terminal.
 */
import { Box, Text, useApp, useInput, useStdin } from 'ink';
import { renderDashboardLines } from './render.js';
import type { Snapshot } from './snapshot.js';

export interface DashboardProps {
  snapshot: Snapshot | null;
  /** Seconds between polls, shown in the footer. */
  intervalSec: number;
  notes?: readonly string[];
}

function QuitKey() {
  const { exit } = useApp();
  useInput((input) => {
    if (input === 'q') exit();
  });
  return null;
}

export function Dashboard({ snapshot, intervalSec, notes = [] }: DashboardProps) {
  const { isRawModeSupported } = useStdin();
  const lines = snapshot === null ? [{ text: 'Polling nodes...' }] : renderDashboardLines(snapshot);
  return (
    <Box flexDirection="column">
      {isRawModeSupported ? <QuitKey /> : null}
      {lines.map((line, i) => (
        <Text key={i} color={line.color} bold={line.bold}>{line.text === '' ? ' ' : line.text}</Text>
      ))}
      {notes.map((note, i) => (
        <Text key={`n${i}`} color="gray">{note}</Text>
      ))}
      <Text color="gray">{`Refreshing every ${intervalSec}s${isRawModeSupported ? ' - press q to quit' : ' - Ctrl-C to quit'}`}</Text>
    </Box>
  );
}
