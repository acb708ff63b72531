// switchyard-rollback: back to the previous release or any kept one
// (runner/rollback.hpp does the work).
#pragma once

namespace switchyard {

int rollback_main(int argc, char** argv);

}  // namespace switchyard
