import FoundationEssentials

/// Husk started inside a Slurm job (`SLURM_JOB_ID` is set).
public enum SlurmJob {
    /// Slurm's default KillWait: seconds between its SIGTERM and SIGKILL.
    static let defaultKillWait = 30

    /// How long a container may outlive the process that started husk, in
    /// a Slurm job: Slurm's KillWait, from `$SLURM_CONF` (else
    /// /etc/slurm/slurm.conf), so the starter ends an orphaned container as
    /// Slurm would have (see `orphan_grace` in husk-starter's plan.c).
    /// Nil outside a job: a container started with nohup lives on.
    public static func orphanGrace(environment: [String: String],
                                   read: (String) -> String? = { try? String(contentsOfFile: $0, encoding: .utf8) }) -> Int? {
        guard let job = environment["SLURM_JOB_ID"], !job.isEmpty else { return nil }
        let file = environment["SLURM_CONF"].flatMap { $0.isEmpty ? nil : $0 } ?? "/etc/slurm/slurm.conf"
        return read(file).flatMap(killWait(in:)) ?? defaultKillWait
    }

    /// `KillWait=N` in slurm.conf (keys are case-insensitive; `#` comments).
    static func killWait(in text: String) -> Int? {
        for line in text.split(separator: "\n") {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            for word in content.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
                let parts = word.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].lowercased() == "killwait", let seconds = Int(parts[1]),
                   (0...86400).contains(seconds) {
                    return seconds
                }
            }
        }
        return nil
    }
}
