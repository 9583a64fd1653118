// Every spec, in the order they run (they share one daemon: later ones see what earlier ones made).
import shell from './shell.mjs';

export default [...shell];
