#include "cli/command.h"

int main(int argc, char** argv) { return pgvise::Main(argc, argv); }
