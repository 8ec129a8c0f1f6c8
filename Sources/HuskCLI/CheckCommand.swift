import ArgumentParser
import FoundationEssentials
import HuskCore
import HuskRunCommand
import HuskRuntime

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Diagnose this node: what Husk needs, what works, and the fix for what does not.",
        discussion: """
            One line per check: OK, WARN (Husk runs, with less) or FAIL (runs fail), its name, what \
            was found, and for WARN and FAIL a line with the fix. Checks: userns (unprivileged user \
            and mount namespaces, tried in a child process, and the sysctls that disable them), \
            apparmor (Ubuntu's restriction of user namespaces), fuse (/dev/fuse and a FUSE mount in a \
            user namespace; without it images run in extract mode), overlay (overlayfs in a user \
            namespace, Linux 5.11+), subids (newuidmap, newgidmap and /etc/subuid, /etc/subgid, which \
            give fakeroot a full id range), scratch, cache, config and runtime (Husk's directories: \
            safe, free space; inspected, never created), policy (/etc/husk/husk.toml), slurm (srun and a husk SPANK \
            plugin in plugstack.conf) and seccomp (no_new_privs and a seccomp filter). \
            Exit status 1 when any check fails, else 0.
            """)

    @Flag(help: "Print a JSON array of {check, status, detail, fix} (fix is null for OK).")
    var json = false

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.bootstrapLogging()
        let environment = ProcessInfo.processInfo.environment
        let starter = try? HelperProgram.path("husk-starter", variable: "HUSK_STARTER", environment: environment)
        let results = NodeCheck(environment: environment, starter: starter).run()
        if json {
            try printJSON(results)
        } else {
            let width = results.map(\.check.count).max() ?? 0
            for result in results {
                let status = result.status.rawValue.padded(toWidth: 4)
                print("\(status) \(result.check.padded(toWidth: width))  \(result.detail)")
                if let fix = result.fix {
                    print(String(repeating: " ", count: width + 7) + "fix: \(fix)")
                }
            }
        }
        if NodeCheck.failed(results) { throw ExitCode(1) }
    }
}
