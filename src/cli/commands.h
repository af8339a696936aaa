// The `ddsp` subcommands. Each takes the arguments after its name and returns the exit code.
#pragma once

namespace ddsp::cli {

int cmd_synths(int argc, char** argv);
int cmd_render(int argc, char** argv);
int cmd_loss(int argc, char** argv);
int cmd_match(int argc, char** argv);
int cmd_landscape(int argc, char** argv);
int cmd_analyse(int argc, char** argv);
int cmd_train(int argc, char** argv);
int cmd_autoencode(int argc, char** argv);
int cmd_stream(int argc, char** argv);
int cmd_remap_train(int argc, char** argv);
int cmd_remap(int argc, char** argv);
int cmd_kad(int argc, char** argv);

}  // namespace ddsp::cli
