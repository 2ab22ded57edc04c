/**
 * Imported first by scripts that draw with ink. Ink decides at import time whether it runs "in CI" (any CI or CI_*
 * variable set) and then prints only the last frame, on exit: a live dashboard in a person's terminal would stay
 * blank. A TTY on stdout is a person watching, whatever the environment says, so tell ink it is not in CI.
 * Must be evaluated before `ink` is imported (ES modules evaluate imports in order).
 */
import process from 'node:process';

if (process.stdout.isTTY) process.env['CI'] = 'false';
