#include "daemon/cli.h"

int main(int argc, char** argv) { return learnloop::daemon::Main(argc, argv); }
