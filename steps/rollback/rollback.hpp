// switchyard-rollback: back to the previous release or any kept one
// (runner/host/rollback.hpp does the work).
#pragma once

namespace switchyard::steps::rollback {

// The executable: `return switchyard::steps::rollback::run(argc, argv);`.
int run(int argc, char** argv);

}  // namespace switchyard::steps::rollback
