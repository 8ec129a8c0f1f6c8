/// What Husk sets inside when an MPI launcher on the host started it (one
/// `husk exec` per rank, the hybrid model), below the image's and the job's
/// own variables, which may choose otherwise.
///
/// Each rank then runs in a user namespace of its own:
/// - the kernel refuses cross-memory attach (`process_vm_readv`) between
///   processes of different user namespaces. Open MPI's shared-memory
///   transport uses it for its single copy of large messages (4 MiB and up
///   on one node) and, when it fails, spins forever instead of falling
///   back. Without the single copy it copies through the shared segment,
///   in fragments of 32 KiB by default, a handshake each; in fragments of
///   256 KiB the copy path ran at 1.4-3x the host's single copy from 256 KiB
///   up, against 0.7-0.9x with 32 KiB (Integration/bench/mpi.sh, README);
/// - a PMIx server (slurmstepd under `srun --mpi=pmix`, prterun) keeps its
///   job data in a shared-memory store under its own directories, which
///   the container does not see, guarded by locks that do not work across
///   user namespaces: the client's own hash store avoids the errors.
enum MPILaunchDefaults {
    static func apply(host: [String: String]) -> [String: String] {
        let pmix = host.keys.contains { $0.hasPrefix("PMIX_") }
        let openMPIRank = host.keys.contains { $0.hasPrefix("OMPI_COMM_WORLD_") }
        var variables: [String: String] = [:]
        if pmix || openMPIRank {
            // Open MPI 4's vader BTL: the transport Debian's and most sites' Open MPI use.
            variables["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none"
            variables["OMPI_MCA_btl_vader_max_send_size"] = "262144"
        }
        if pmix { variables["PMIX_MCA_gds"] = "hash" }
        return variables
    }
}
