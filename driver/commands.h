// Entry points of the `lockstep` subcommands. Each takes the arguments after
// the subcommand name and returns the process exit code; none calls exit().
#pragma once

#include <string>
#include <vector>

namespace lockstep::driver {

using Args = std::vector<std::string>;

int RunVerifyCommand(const Args& args);   // lockstep verify
int RunSandboxCommand(const Args& args);  // lockstep sandbox run|serve
int RunPretrainCommand(const Args& args); // lockstep pretrain
int RunEvalCommand(const Args& args);     // lockstep eval passk

}  // namespace lockstep::driver
