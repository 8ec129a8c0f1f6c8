/* Ping-pong between ranks 0 and 1, message sizes 1 KiB to 16 MiB: prints
   "SIZE_BYTES MB_PER_S" per size (one-way bandwidth, best of the rounds
   after a warm-up), so the same program on the host and in a container can
   be compared size for size. A size that hangs hangs the whole run: the
   caller bounds it with a timeout. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    int rank, size;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size != 2) {
        if (rank == 0) fprintf(stderr, "pingpong: run with exactly 2 ranks\n");
        MPI_Finalize();
        return 2;
    }
    const int largest = 16 << 20;
    char *buffer = malloc(largest);
    memset(buffer, rank, largest);
    for (int bytes = 1 << 10; bytes <= largest; bytes <<= 1) {
        int rounds = bytes >= (1 << 20) ? 10 : 100;
        double best = 1e30;
        for (int repeat = 0; repeat < 3; repeat++) {  /* the first is a warm-up */
            MPI_Barrier(MPI_COMM_WORLD);
            double start = MPI_Wtime();
            for (int i = 0; i < rounds; i++) {
                if (rank == 0) {
                    MPI_Send(buffer, bytes, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
                    MPI_Recv(buffer, bytes, MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                } else {
                    MPI_Recv(buffer, bytes, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                    MPI_Send(buffer, bytes, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
                }
            }
            double elapsed = MPI_Wtime() - start;
            if (repeat > 0 && elapsed < best) best = elapsed;
        }
        if (rank == 0) {
            printf("%d %.1f\n", bytes, 2.0 * rounds * bytes / best / 1e6);
            fflush(stdout);
        }
    }
    free(buffer);
    MPI_Finalize();
    return 0;
}
