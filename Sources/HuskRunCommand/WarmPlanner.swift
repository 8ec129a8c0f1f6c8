import CHuskPlanner
import CHuskShim
import FoundationEssentials
import Glibc
import HuskCore
import HuskRuntime
import Logging

/// The warm planner (DESIGN.md §1, "Fast starts"): a process of husk-plan
/// per user and context that stays loaded for HUSK_IDLE seconds and plans
/// the starts the launcher (`husk`, C) asks for, so that a start does not
/// load the Swift program. Each request is planned in a child forked from a
/// process that has run nothing but its warm-up and the serving loop:
/// nothing one start computed (the site policy, the log handler, caches of
/// any kind) can reach another; what the warm-up keeps (the image it opened,
/// compiled seccomp filters) is used only for the same unchanged inputs. The child plans from the launcher's own command line,
/// environment, working directory, umask and descriptors, and only when
/// the launcher's context (ids, groups, capabilities, namespaces, root,
/// cgroup, limits, no_new_privs, seccomp, security label, personality) is
/// the planner's (checked in C, husk_planner_serve): otherwise, and for any start it does not take, the launcher
/// runs husk-plan instead, whose behaviour is the reference.
package enum WarmPlanner {
    /// `husk-plan --serve-plans SOCKET IDLE IMAGE`: what `startIfAbsent` runs.
    package static let serveFlag = "--serve-plans"

    /// Serves SOCKET until idle; never returns. First it plans a start of
    /// IMAGE (`exec IMAGE true`) and throws the plan away: that loads the
    /// planning code and the Swift runtime's type metadata into this
    /// process for every child to inherit, which halves a child's planning
    /// time, and leaves IMAGE open for children whose start names the same
    /// unchanged file (KeptImage). It reads the options and plans through `Container`, not
    /// `RunArguments.container()`, so it sets none of the state a command
    /// keeps for its process's lifetime (the site policy `HuskSettings`
    /// loads once, the log handler), and planning starts nothing (a start's
    /// `exec` starts the image server).
    package static func serve(socket: String, idle: Int, image: String) -> Never {
        do {
            try PrivateDirectory.prepare(FilePath.directory(of: socket), what: "the warm planner's socket")
        } catch {
            exit(1)
        }
        KeptImage.keep = true
        if let warmUp = RunCommandLine(["exec", image, "true"]), let options = try? warmUp.arguments.runOptions() {
            _ = try? Container(image: image, options: options).plan(["true"]).encoded()
        }
        let status = husk_planner_serve(socket, Int32(idle)) { conn, argc, argv, count, fds in
            let arguments = (0..<Int(argc)).compactMap { argv?[$0].map { String(cString: $0) } }
            WarmPlanner.plan(conn: conn, arguments: arguments,
                             descriptors: Array(UnsafeBufferPointer(start: fds, count: Int(count))))
        }
        exit(status < 0 ? 1 : 0)
    }

    /// Starts this context's planner when none answers, for the launcher's
    /// next start: only for a start the planner would take, never with
    /// HUSK_IDLE=0.
    package static func startIfAbsent(_ commandLine: RunCommandLine, environment: [String: String]) {
        guard takes(commandLine), let idle = try? ImageServer.idleSeconds(environment: environment), idle > 0,
              let socket = socketPath(environment: environment), husk_planner_reachable(socket) == 0,
              // Its lock goes there: the planning below would make and check it anyway.
              (try? PrivateDirectory.prepare(HuskPaths(environment: environment).runtime, what: "instance state")) != nil
        else { return }
        let lock = husk_planner_lock(socket)
        guard lock >= 0 else { return }  // one is starting, or serves another context's socket name
        defer { close(lock) }
        let image = commandLine.arguments.image
        _ = husk_spawn_planner(HelperProgram.executablePath(), socket, Int32(idle),
                               image.hasPrefix("/") ? image : FileManager.default.currentDirectoryPath + "/" + image, lock)
    }

    /// The socket of this process's planner: the launcher computes the same.
    static func socketPath(environment: [String: String]) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        guard husk_planner_socket(&buffer, buffer.count, HuskPaths(environment: environment).runtime,
                                  HelperProgram.executablePath()) == 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Starts it plans: local images, not a source converted on the way
    /// (minutes, and Ctrl-C must reach it) or a registry's (husk-full's).
    static func takes(_ commandLine: RunCommandLine) -> Bool {
        let image = commandLine.arguments.image
        return !image.hasPrefix("docker://") && !RuntimeImage.convertsIntoCache(image)
    }

    /// In the forked child, which has the launcher's standard descriptors,
    /// working directory, umask and environment (husk_planner_serve): plan
    /// the launcher's start and send the plan back, or exit with husk's
    /// status for the launcher (its message on the launcher's stderr), or
    /// say it takes the full program.
    static func plan(conn: Int32, arguments: [String], descriptors: [Int32]) -> Never {
        func full() -> Never {
            _ = husk_planner_send(conn, CChar(HUSK_PLANNER_FULL), 0)
            _exit(0)
        }
        guard let commandLine = RunCommandLine(Array(arguments.dropFirst())), takes(commandLine) else { full() }
        RunArguments.processArguments = arguments
        Launcher.launcherDescriptors = descriptors
        Launcher.handOver = { plan, keep, starter in
            HuskLog.logger.debug("planned by the warm planner (pid \(getppid()))")
            let sent = keep.withUnsafeBufferPointer {
                husk_planner_send_plan(conn, plan, $0.baseAddress, Int32($0.count), starter)
            }
            _exit(sent == 0 ? 0 : 255)
        }
        CommandOutcome.setUpProcess()
        do {
            try commandLine.start()
        } catch let error as HuskError where error.code == .noRegistryClient {
            full()  // husk-full's, through husk-plan; nothing has started
        } catch {
            CommandOutcome.fail(error as? HuskError ?? HuskError(.io, "\(error)"), startsContainer: true)
        }
    }
}
