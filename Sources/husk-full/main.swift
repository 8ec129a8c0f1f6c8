// husk-full: every husk command (HuskCLI), with the registry client. `husk`,
// the program that starts containers, hands it everything else with the
// same arguments; it is also a complete husk by itself.
import HuskCLI

Husk.main()
