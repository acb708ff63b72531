// SIGINT and SIGTERM as a flag: a step installs the handlers once, and every
// long loop (health probes, drains, uploads, the lock wait) checks the flag
// and stops early, so Ctrl-C leaves the host as it was and exits 130.
#pragma once

namespace switchyard {

// Makes SIGINT and SIGTERM set the flag instead of ending the process.
void install_interrupt_handlers();

// True once SIGINT or SIGTERM arrived; long loops check it and stop early.
bool interrupted();

}  // namespace switchyard
