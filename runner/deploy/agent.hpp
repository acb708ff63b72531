// The host agent: `switchyard request-deploy --agent`, what request-deploy
// runs on each host (over ssh, or as a child for --via local). It is the
// one process that holds the host lock for the whole rollout and runs
// switch-traffic and rollback under it.
//
// The protocol, one JSON object per line (the artifact as raw bytes):
//   agent  -> {"event":"hello","version":"0.1.0","protocol":1,"features":["fetch"]}
//              (features: requests added within protocol 1; an agent that
//              does not list one is older and does not know it)
//   client -> {"op":"open","config":"<resolved configuration>","secrets":[...],
//              "requested_by":"...","artifact_url":"<presigned URL, with --presign>"}
//                                                -> {"event":"opened",...}
//   client -> {"op":"status"}                    -> {"event":"status","release":...,
//                                                    "app_version":...,...}
//   client -> {"op":"lock","timeout_ms":N,"action":"deploying","release":"..."}
//                                                -> {"event":"locked"}
//   client -> {"op":"receive","name":"hello.jar","size":N} + N bytes
//                                                -> {"event":"received","path":...}
//   client -> {"op":"fetch","sha256":"...","manifest":"<JSON>"}  (--presign: the
//              artifact_url, through the http store; the manifest written beside it)
//                                                -> {"event":"received","path":...}
//   client -> {"op":"run","step":"switch-traffic"|"rollback","args":[...]}
//                                                -> {"event":"done","exit_code":N,"result":{...}}
//   client -> {"op":"retire"}  (undo a first deploy: stop the new slot)
//                                                -> {"event":"done",...}
//   client -> {"op":"interrupt"} while a run is in flight: SIGTERM to it, so
//              it undoes its own switch; end of input does the same.
//   Any failure          -> {"event":"error","exit_code":N,"message":"..."}
// End of input: the agent exits and the lock goes with it.
//
// The lock hand-over: the agent takes the flock on <state_dir>/lock and
// keeps it; a step it runs gets the locked descriptor as fd 3 and
// SWITCHYARD_HELD_LOCK_FD=3 (host/lock.hpp), so the step's own "take the
// lock" adopts it instead of waiting for it. The lock is therefore held
// from preflight to the end of the rollout, across the switch and any
// rollback, and a second rollout waits at preflight. If the connection
// drops, the agent stops its step (which undoes its switch) and exits,
// and the kernel releases the flock.
//
// Configuration and secrets come on stdin and the steps get them on their
// stdin (`--config -`): nothing of them is on a command line, and every line
// the agent passes on is masked.
#pragma once

namespace switchyard {

inline constexpr int k_agent_protocol = 1;
// The "fetch" request (--presign), added to protocol 1 after 0.1.0's first
// hosts: request-deploy asks for it in the hello before sending a URL.
inline constexpr const char* k_agent_feature_fetch = "fetch";

// Runs the agent on stdin/stdout; returns the exit code.
int run_agent();

}  // namespace switchyard
