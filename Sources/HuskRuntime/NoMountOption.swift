import HuskCore

/// `--no-mount LIST`: the names Apptainer takes for its default mounts
/// (apptainer.conf's "mount ..." settings and bind path entries), as Husk's
/// `RunOptions.DefaultMount`s.
public enum NoMountOption {
    public static func parse(_ items: [String]) throws -> Set<RunOptions.DefaultMount> {
        var result: Set<RunOptions.DefaultMount> = []
        for item in items.flatMap({ $0.split(separator: ",").map(String.init) }) {
            switch item {
            case "home": result.insert(.home)
            case "cwd": result.insert(.cwd)
            case "tmp": result.insert(.tmp)
            case "sys": result.insert(.sys)
            case "dev": result.insert(.dev)
            case "devpts": result.insert(.devpts)
            case "bind-paths": result.insert(.siteBinds)
            case "/etc/hosts": result.insert(.hosts)
            case "/etc/resolv.conf": result.insert(.resolvConf)
            // Husk binds neither the host's filesystems nor its localtime.
            case "hostfs", "/etc/localtime": continue
            case "proc":
                throw HuskError(.usage, "--no-mount proc is not supported: Husk always mounts /proc (programs and the C library read it); leave proc out")
            default:
                guard item.hasPrefix("/") else {
                    throw HuskError(.usage, "unknown --no-mount \"\(item)\": use home, cwd, tmp, sys, dev, devpts, hostfs, bind-paths or the absolute destination of a site bind")
                }
                result.insert(.siteBind(BindOption.normalize(item)))
            }
        }
        return result
    }
}
