import HuskCore
import HuskRuntime

/// What starts a container: the bodies of husk exec, run and shell, for
/// both parsers (RunFlags through ArgumentParser, RunCommandLine without).
package enum ContainerCommand: String, CaseIterable {
    case exec, run, shell

    /// Becomes the container: for exec, `trailing` is the command; for run,
    /// the arguments replacing the image's Cmd; for shell, the shell's.
    package func start(_ given: RunArguments, trailing: [String], shell: String? = nil) throws -> Never {
        switch self {
        case .exec:
            guard !trailing.isEmpty else { throw HuskError(.usage, "husk exec needs a command after the image") }
            try given.container().exec(trailing)
        case .run:
            let container = try given.container()
            try container.exec(try container.runArguments(trailing))
        case .shell:
            var container = try given.container()
            container.options.environment.append(.init(name: "PS1", value: "[\(container.image.name)] \\w \\$ "))
            let host = container.planner.hostEnvironment
            let chosen = shell ?? ApptainerFlagVariables(host: host).value(of: "shell")?.value
            try container.exec(chosen.map { [$0] + trailing } ?? container.shellArguments(trailing))
        }
    }
}

/// `husk exec|run|shell [OPTIONS] IMAGE ...` read without ArgumentParser.
///
/// ArgumentParser finds a command's options by reflecting on every property
/// wrapper of RunFlags each time it parses: 3-5 ms, a quarter of a
/// container's start (README, "Where a start's time goes"). This reads the
/// plain forms (`--name VALUE`, `--name=VALUE`, `-X VALUE`, switches, once
/// each, options before IMAGE, a command not starting with `-`) from a
/// table of RunFlags' names; anything else (help, a short group such as
/// `-ce`, an option given twice, a value starting with `-`, Apptainer-only
/// flags, an unknown name) gives nil and ArgumentParser parses it (RunFlags,
/// in husk-full: the program husk hands it over), so its messages stay the
/// only ones. HuskCLITests checks that the table has every name RunFlags
/// declares and that both parsers agree.
package struct RunCommandLine: Equatable {
    package var command: ContainerCommand
    package var arguments: RunArguments
    package var trailing: [String]
    package var shell: String?

    enum Kind {
        case on(WritableKeyPath<RunArguments, Bool>)
        case value(WritableKeyPath<RunArguments, String?>)
        case values(WritableKeyPath<RunArguments, [String]>)
        case mode, pull
        /// husk shell's -s/--shell.
        case shell
    }

    /// RunFlags' names (and husk shell's -s), as ArgumentParser takes them.
    // Key paths are not Sendable; the table is never written.
    nonisolated(unsafe) static let names: [String: Kind] = [
        "--debug": .on(\.debug), "-q": .on(\.quiet), "--quiet": .on(\.quiet),
        "-B": .values(\.bind), "--bind": .values(\.bind), "--mount": .values(\.mount), "--env": .values(\.env),
        "--env-file": .value(\.envFile), "-e": .on(\.cleanenv), "--cleanenv": .on(\.cleanenv),
        "--env-passthrough": .value(\.envPassthrough), "-c": .on(\.contain), "--contain": .on(\.contain),
        "--no-home": .on(\.noHome), "-H": .value(\.home), "--home": .value(\.home),
        "--pwd": .value(\.pwd), "--cwd": .value(\.pwd), "-W": .value(\.workdir), "--workdir": .value(\.workdir),
        "-S": .values(\.scratch), "--scratch": .values(\.scratch), "--no-mount": .values(\.noMount),
        "--writable-tmpfs": .on(\.writableTmpfs), "-o": .values(\.overlay), "--overlay": .values(\.overlay),
        "-f": .on(\.fakeroot), "--fakeroot": .on(\.fakeroot), "--ignore-subuid": .on(\.ignoreSubuid),
        "-p": .on(\.pid), "--pid": .on(\.pid), "--no-init": .on(\.noInit), "-n": .on(\.net), "--net": .on(\.net),
        "--network": .value(\.network), "--dns": .values(\.dns), "-i": .on(\.ipc), "--ipc": .on(\.ipc),
        "--uts": .on(\.uts), "--hostname": .value(\.hostname), "-C": .on(\.containall),
        "--containall": .on(\.containall), "--compat": .on(\.compat), "--no-umask": .on(\.noUmask),
        "--rlimit": .values(\.rlimit), "--security": .values(\.security), "--allow-nested": .on(\.allowNested),
        "--add-caps": .values(\.addCaps), "--drop-caps": .values(\.dropCaps), "--no-privs": .on(\.noPrivs),
        "--mode": .mode, "--unsquash": .on(\.unsquash), "--nv": .on(\.nv), "--nvccli": .on(\.nvccli),
        "--no-nv": .on(\.noNv), "--rocm": .on(\.rocm), "--no-rocm": .on(\.noRocm), "--bind-mpi": .on(\.bindMPI),
        "--app": .value(\.app), "--pull": .pull, "--ca-cert": .values(\.caCert), "--insecure": .on(\.insecure),
        "--no-https": .on(\.insecure), "--nohttps": .on(\.insecure),
        "-s": .shell, "--shell": .shell,
    ]

    package init(command: ContainerCommand, arguments: RunArguments, trailing: [String], shell: String? = nil) {
        self.command = command
        self.arguments = arguments
        self.trailing = trailing
        self.shell = shell
    }

    /// Becomes the container this command line names.
    package func start() throws -> Never { try command.start(arguments, trailing: trailing, shell: shell) }

    /// `argv` without the program name; nil when ArgumentParser must read it.
    package init?(_ argv: [String]) {
        guard let name = argv.first, let command = ContainerCommand(rawValue: name) else { return nil }
        self.command = command
        arguments = RunArguments(image: "")
        trailing = []
        var modeGiven = false, pullGiven = false  // each once, as the others
        var index = 1
        while index < argv.count {
            let token = argv[index]
            index += 1
            guard token.hasPrefix("-") else {
                arguments.image = token
                trailing = Array(argv[index...])
                // A command starting with "-" could be an option to ArgumentParser.
                guard trailing.first?.hasPrefix("-") != true else { return nil }
                return
            }
            var name = token
            var value: String?
            if token.hasPrefix("--"), let equals = token.firstIndex(of: "=") {
                name = String(token[..<equals])
                value = String(token[token.index(after: equals)...])
            } else if !token.hasPrefix("--") && token.count != 2 {
                return nil  // -ce, -Bsrc, -
            }
            guard let kind = Self.names[name] else { return nil }
            if case .on(let setting) = kind {
                guard value == nil, !arguments[keyPath: setting] else { return nil }
                arguments[keyPath: setting] = true
                continue
            }
            if value == nil, index < argv.count {
                value = argv[index]
                index += 1
            }
            guard let value, !value.hasPrefix("-") else { return nil }
            switch kind {
            case .values(let setting):
                arguments[keyPath: setting].append(value)
            case .value(let setting):
                guard arguments[keyPath: setting] == nil else { return nil }
                arguments[keyPath: setting] = value
            case .mode:
                guard let mode = RunOptions.Mode(rawValue: value), !modeGiven else { return nil }
                arguments.mode = mode
                modeGiven = true
            case .pull:
                guard let pull = PullPolicy(rawValue: value), !pullGiven else { return nil }
                arguments.pull = pull
                pullGiven = true
            case .shell:
                guard command == .shell, shell == nil else { return nil }  // -s is husk shell's alone
                shell = value
            case .on:
                return nil
            }
        }
        return nil  // no IMAGE: ArgumentParser says so
    }
}
