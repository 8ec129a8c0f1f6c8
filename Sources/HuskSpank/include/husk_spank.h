/* The husk SPANK plugin for Slurm (husk_spank.c): no API of its own; Slurm
   finds its symbols (slurm_spank_*, spank_options) by name. */
#ifndef HUSK_SPANK_H
#define HUSK_SPANK_H
#define HUSK_SPANK_TASK "husk-spank-task"
#endif
