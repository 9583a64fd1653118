// Every spec, in the order they run (they share one daemon: later ones see what earlier ones made).
// The Viewer's checks come before the clear, which turns the failed task green.
import shell from './shell.mjs';
import viewer from './viewer.mjs';
import runs from './runs.mjs';
import runActions from './run_actions.mjs';
import backfills from './backfills.mjs';
import connections from './connections.mjs';
import admin from './admin.mjs';
import idle from './idle.mjs';
import dark from './dark.mjs';
import robustness from './robustness.mjs';
import phone from './phone.mjs';

export default [...shell, ...viewer, ...runs, ...runActions, ...backfills, ...connections, ...admin, ...phone, ...dark, ...idle, ...robustness];
