import Foundation
import Testing
import HuskSquash
import HuskCore
@testable import HuskRuntime

@Suite struct ContainerEnvironmentTests {
    let identity = ContainerEnvironment.Identity(user: "alice", home: "/home/alice", shell: "/bin/sh")

    func environment(host: [String: String], image: [String] = ["PATH=/opt/app/bin:/usr/bin", "APP=1"]) -> ContainerEnvironment {
        ContainerEnvironment(host: host, imageEnv: image, identity: identity,
                             containerPath: "/images/app.sqsh", containerName: "app")
    }

    func dict(_ lines: [String]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: lines.map { line in
            let (name, value) = ContainerEnvironment.split(line)
            return (name, value)
        })
    }

    @Test func sameImageSameVariablesForDifferentHosts() {
        let a = environment(host: ["HOSTNAME": "a", "SECRET_TOKEN": "x", "PATH": "/a/bin", "EDITOR": "vim",
                                   "TERM": "xterm"]).resolve()
        let b = environment(host: ["HOSTNAME": "b", "LD_LIBRARY_PATH": "/weird", "PATH": "/b/bin",
                                   "TERM": "xterm"]).resolve()
        #expect(a == b)
        let env = dict(a)
        #expect(env["PATH"] == "/opt/app/bin:/usr/bin", "the image's PATH, never the host's")
        #expect(env["SECRET_TOKEN"] == nil)
        #expect(env["HOME"] == "/home/alice")
        #expect(env["USER"] == "alice")
        #expect(env["HUSK_NAME"] == "app")
    }

    @Test func schedulerAndMPIVariablesPassAndOverrideTheImage() {
        let env = dict(environment(host: ["SLURM_JOB_ID": "42", "OMPI_COMM_WORLD_RANK": "3", "PMIX_RANK": "3",
                                          "CUDA_VISIBLE_DEVICES": "0,1", "SLURMX": "no"],
                                   image: ["SLURM_JOB_ID=image"]).resolve())
        #expect(env["SLURM_JOB_ID"] == "42")
        #expect(env["OMPI_COMM_WORLD_RANK"] == "3")
        #expect(env["CUDA_VISIBLE_DEVICES"] == "0,1")
        #expect(env["SLURMX"] == nil)
    }

    @Test func ranksOfAnMPILauncherGetTheTransportThatWorksAcrossUserNamespaces() {
        let mpirun = dict(environment(host: ["OMPI_COMM_WORLD_RANK": "0"]).resolve())
        #expect(mpirun["OMPI_MCA_btl_vader_single_copy_mechanism"] == "none")
        #expect(mpirun["OMPI_MCA_btl_vader_max_send_size"] == "262144")
        #expect(mpirun["PMIX_MCA_gds"] == nil, "mpirun's ranks talk to orted, not a PMIx server of the host's")
        let srun = dict(environment(host: ["PMIX_RANK": "1", "SLURM_STEP_ID": "0"]).resolve())
        #expect(srun["OMPI_MCA_btl_vader_single_copy_mechanism"] == "none" && srun["PMIX_MCA_gds"] == "hash")
        // Not under a launcher: nothing added, the environment stays the image's.
        #expect(dict(environment(host: ["SLURM_JOB_ID": "42"]).resolve())["OMPI_MCA_btl_vader_single_copy_mechanism"] == nil)
        // The job's and the image's choice win.
        let chosen = dict(environment(host: ["PMIX_RANK": "1", "OMPI_MCA_btl_vader_single_copy_mechanism": "cma"],
                                      image: ["PMIX_MCA_gds=ds21"]).resolve())
        #expect(chosen["OMPI_MCA_btl_vader_single_copy_mechanism"] == "cma" && chosen["PMIX_MCA_gds"] == "ds21")
        var clean = environment(host: ["PMIX_RANK": "1"])
        clean.passThrough = .none
        #expect(dict(clean.resolve())["PMIX_MCA_gds"] == nil)
    }

    @Test func cleanenvPassesNoHostVariables() {
        var environment = environment(host: ["SLURM_JOB_ID": "42", "TERM": "xterm"])
        environment.passThrough = .none
        let env = dict(environment.resolve())
        #expect(env["SLURM_JOB_ID"] == nil)
        #expect(env["APP"] == "1")
    }

    @Test func passthroughAllIsSingularityLikeWithTheImageOnTop() {
        var environment = environment(host: ["EDITOR": "vim", "APP": "host", "PATH": "/host/bin"])
        environment.passThrough = .all
        let env = dict(environment.resolve())
        #expect(env["EDITOR"] == "vim")
        #expect(env["APP"] == "1", "the image's value beats the host's")
        #expect(env["PATH"] == "/opt/app/bin:/usr/bin")
    }

    @Test func extraPassthroughPatterns() {
        var environment = environment(host: ["MYAPP_DEBUG": "1", "MYAPP_X": "2", "OTHER": "3"])
        environment.passThrough = .standard(extra: ["MYAPP_*"])
        let env = dict(environment.resolve())
        #expect(env["MYAPP_DEBUG"] == "1")
        #expect(env["MYAPP_X"] == "2")
        #expect(env["OTHER"] == nil)
    }

    @Test func precedenceEnvFileThenHuskEnvThenExplicit() {
        var environment = environment(host: ["HUSK_ENV_A": "husk-env", "HUSK_ENV_B": "husk-env"])
        environment.envFileEntries = [("A", "file"), ("B", "file"), ("C", "file"), ("APP", "file")]
        environment.explicit = [("B", "explicit")]
        let env = dict(environment.resolve())
        #expect(env["A"] == "husk-env")
        #expect(env["B"] == "explicit")
        #expect(env["C"] == "file")
        #expect(env["APP"] == "file")
        #expect(env["HUSK_ENV_A"] == nil)
    }

    @Test func envFileSyntax() throws {
        let entries = try ContainerEnvironment.parseEnvFile("""
            # comment
            A=1

            export B="two words"
            C='x=y'
            D=
            """, path: "f")
        #expect(entries.map(\.0) == ["A", "B", "C", "D"])
        #expect(entries.map(\.1) == ["1", "two words", "x=y", ""])
        #expect(throws: HuskError.self) { try ContainerEnvironment.parseEnvFile("NOEQUALS", path: "f") }
        #expect(throws: HuskError.self) { try ContainerEnvironment.parseEnvFile("1BAD=x", path: "f") }
    }

    @Test func assignmentsAreValidated() throws {
        #expect(try ContainerEnvironment.parseAssignment("A_1=x=y", what: "--env") == ("A_1", "x=y"))
        #expect(throws: HuskError.self) { try ContainerEnvironment.parseAssignment("A", what: "--env") }
        #expect(throws: HuskError.self) { try ContainerEnvironment.parseAssignment("A-B=1", what: "--env") }
    }
}

@Suite struct SlurmJobTests {
    @Test func orphanGraceIsSlurmsKillWaitInsideAJobOnly() {
        let conf = "# KillWait=99 in a comment\nClusterName=x\nSlurmctldHost=a  killwait=7 MinJobAge=30\n"
        #expect(SlurmJob.orphanGrace(environment: [:], read: { _ in conf }) == nil, "outside a job: nohup semantics")
        #expect(SlurmJob.orphanGrace(environment: ["SLURM_JOB_ID": "5", "SLURM_CONF": "/c"],
                                     read: { $0 == "/c" ? conf : nil }) == 7)
        #expect(SlurmJob.orphanGrace(environment: ["SLURM_JOB_ID": "5"], read: { _ in nil }) == 30, "Slurm's default")
        #expect(SlurmJob.killWait(in: "KillWait=forever\n") == nil)
    }
}

@Suite struct ApptainerVariablesTests {
    let identity = ContainerEnvironment.Identity(user: "alice", home: "/home/alice", shell: "/bin/sh")

    @Test func apptainerenvAndSingularityenvSetVariablesInsideHuskEnvWins() {
        let host = ["SINGULARITYENV_A": "s", "APPTAINERENV_A": "a", "SINGULARITYENV_B": "s", "APPTAINERENV_C": "c",
                    "HUSK_ENV_C": "h", "APPTAINERENV_": "empty name", "SINGULARITYENV_PATH": "/opt/bin"]
        var environment = ContainerEnvironment(host: host, imageEnv: ["A=image"], identity: identity,
                                               containerPath: "/i.sqsh", containerName: "i")
        var env = Dictionary(uniqueKeysWithValues: environment.resolve().map { ContainerEnvironment.split($0) })
        #expect(env["A"] == "a" && env["B"] == "s" && env["C"] == "h" && env["PATH"] == "/opt/bin")
        #expect(env["APPTAINERENV_A"] == nil && env[""] == nil)
        // Not passed as themselves even when every host variable is.
        environment.passThrough = .all
        env = Dictionary(uniqueKeysWithValues: environment.resolve().map { ContainerEnvironment.split($0) })
        #expect(env["SINGULARITYENV_B"] == nil && env["B"] == "s")
    }

    @Test func bindVariablesComeInApptainersOrder() {
        #expect(ApptainerVariables.binds(host: ["APPTAINER_BIND": "/a:/a, /b:/c:ro", "SINGULARITY_BINDPATH": "/s",
                                                "APPTAINER_BINDPATH": ""]) == ["/s", "/a:/a", "/b:/c:ro"])
        #expect(ApptainerVariables.binds(host: [:]).isEmpty)
    }

    @Test func apptainersCacheDirectoryHoldsHusksCacheUnlessHuskCachedirIsSet() {
        #expect(HuskPaths(environment: ["HOME": "/h", "APPTAINER_CACHEDIR": "/scratch/c"]).cache == "/scratch/c/husk")
        #expect(HuskPaths(environment: ["HOME": "/h", "SINGULARITY_CACHEDIR": "/s"]).cache == "/s/husk")
        #expect(HuskPaths(environment: ["HOME": "/h", "APPTAINER_CACHEDIR": "/scratch/c", "HUSK_CACHEDIR": "/mine"]).cache == "/mine")
        #expect(HuskPaths(environment: ["HOME": "/h"]).cache == "/h/.cache/husk")
    }
}

/// An image with Singularity metadata and no Husk config (a SIF file, an
/// Apptainer sandbox): its env scripts are the image's layer, its runscript
/// is what run runs, its startscript what instance start runs.
@Suite struct SingularityImageTests {
    let identity = ContainerEnvironment.Identity(user: "alice", home: "/home/alice", shell: "/bin/sh")

    @Test func environmentScriptsAreTheImageLayer() {
        var environment = ContainerEnvironment(host: ["SLURM_JOB_ID": "42", "LANG": "de_DE.UTF-8"], imageEnv: [],
                                               identity: identity, containerPath: "/images/app.sif", containerName: "app")
        environment.imageScripts = [
            ShellAssignments(parsing: "export PATH=/opt/bin:$PATH GREETING=image SLURM_JOB_ID=image\nexport LANG=\"${LANG:-C}\""),
            ShellAssignments(parsing: "export WHERE=\"$HOME/data\""),
        ]
        environment.apptainerContainer = (path: "/images/app.sif", name: "app.sif")
        environment.explicit = [("GREETING", "mine")]
        let env = Dictionary(uniqueKeysWithValues: environment.resolve().map { ContainerEnvironment.split($0) })
        #expect(env["PATH"] == "/opt/bin:" + ContainerEnvironment.defaultPath)
        #expect(env["GREETING"] == "mine", "--env beats the image")
        #expect(env["SLURM_JOB_ID"] == "42", "the scheduler's variables beat the image")
        #expect(env["LANG"] == "de_DE.UTF-8", "evaluated over the base layer")
        #expect(env["WHERE"] == "/home/alice/data")
        #expect(env["APPTAINER_CONTAINER"] == "/images/app.sif" && env["SINGULARITY_NAME"] == "app.sif")
    }

    @Test func aSandboxRunsItsRunscriptAndStartscript() throws {
        let root = NSTemporaryDirectory() + "husk-sandbox-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/.singularity.d/env", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: root + "/.singularity.d/runscript", contents: Data("#!/bin/sh\n".utf8))
        _ = FileManager.default.createFile(atPath: root + "/.singularity.d/env/90-environment.sh", contents: Data("export A=1\n".utf8))
        let image = try RuntimeImage.open(root, cacheDirectory: root)
        let metadata = try #require(image.singularity)
        #expect(metadata.hasRunscript && !metadata.hasStartscript)
        #expect(metadata.environmentScripts.map(\.name) == ["90-environment.sh"])
        let user = UserIdentity(uid: 1000, gid: 1000, name: "alice", groupName: "alice", gecos: "", home: "/home/alice",
                                shell: "/bin/sh")
        let planner = LaunchPlanner(image: image, options: RunOptions(), user: user, hostEnvironment: [:], currentDirectory: "/")
        #expect(try planner.runArguments(["a b", "c"]) == SingularityActions.run(["a b", "c"]))
        #expect(try planner.runArguments([]).prefix(2) == ["/bin/sh", "-c"])
        #expect(try planner.instanceArguments(["x"]) == SingularityActions.start(["x"]))
        #expect(dictionary(try planner.environment(inside: user).resolve())["A"] == "1")

        try FileManager.default.removeItem(atPath: root + "/.singularity.d/runscript")
        let bare = try RuntimeImage.open(root, cacheDirectory: root)
        let error = try #require(throws: HuskError.self) {
            try LaunchPlanner(image: bare, options: RunOptions(), user: user, hostEnvironment: [:], currentDirectory: "/")
                .runArguments([])
        }
        #expect(error.message.contains("has no runscript"))
    }

    func dictionary(_ lines: [String]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: lines.map { ContainerEnvironment.split($0) })
    }
}
