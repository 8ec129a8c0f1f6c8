/* husk-starter: the starter as a program of its own, which husk-plan execs
   with the plan (Sources/CHuskStarter). */
#include "husk_starter.h"

int main(int argc, char **argv) { husk_starter_main(argc, argv); }
