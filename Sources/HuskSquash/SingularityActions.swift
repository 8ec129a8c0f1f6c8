import HuskCore


/// The commands `husk run` and `husk instance start` give an image with
/// Singularity metadata, as Apptainer's own action scripts do: through the
/// image's `/bin/sh`, the script runs itself when it is executable (its `#!`
/// line chooses the interpreter) and is read by `sh` when it is not (images
/// from old Singularity versions). The shell text is fixed; the user's
/// arguments reach the script as "$@", never as shell text.
public enum SingularityActions {
    /// `husk run`: the runscript with the arguments.
    public static func run(_ arguments: [String]) -> [String] {
        ["/bin/sh", "-c", script(SingularityMetadata.runscript, then: "exec"), SingularityMetadata.runscript] + arguments
    }

    /// `husk instance start`: the startscript with the arguments, then the
    /// instance stays up until it is stopped, as Apptainer's does when its
    /// startscript returns (a startscript that starts daemons and returns,
    /// or the empty one `apptainer build` writes). `sleep` ends with an
    /// error where the image has none, so this never spins.
    public static func start(_ arguments: [String]) -> [String] {
        let startscript = SingularityMetadata.startscript
        let body = "if [ -f \(startscript) ]; then \(script(startscript, then: "")); fi; while sleep 3600; do :; done"
        return ["/bin/sh", "-c", body, startscript] + arguments
    }

    private static func script(_ path: String, then prefix: String) -> String {
        let run = prefix.isEmpty ? "" : prefix + " "
        return "if [ -x \(path) ]; then \(run)\(path) \"$@\"; else \(run)/bin/sh \(path) \"$@\"; fi"
    }
}
