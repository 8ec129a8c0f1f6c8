/* The starter (DESIGN.md §3): performs a launch plan and never returns. */
#ifndef HUSK_STARTER_H
#define HUSK_STARTER_H

/* What husk-starter's main does: ARGV is {"husk-starter", "--plan-fd=N"}
   (or no argument: the plan on descriptor 3). The process must hold no
   descriptor but 0-2, the plan and the caller's passed descriptors the plan
   names: the starter closes the rest only in the processes it forks and
   before the command's exec. Ends the process: it becomes the container's
   supervisor, or exits with a one-line message. */
_Noreturn void husk_starter_main(int argc, char **argv);

#endif
