import Testing
@testable import HuskCore

@Suite struct ShellAssignmentsTests {
    func run(_ script: String, _ environment: [String: String] = ["PATH": "/usr/bin:/bin"]) -> ([String: String], ShellAssignments) {
        let parsed = ShellAssignments(parsing: script)
        var state = ShellAssignments.State(environment: environment)
        parsed.apply(to: &state)
        return (state.environment, parsed)
    }

    @Test func exportsAndPlainAssignments() {
        let (env, parsed) = run("""
            #!/bin/sh
            # a comment
            export A=1
            B=2
            export B
            C=3            # not exported
            export D="two words" E='single $quoted' F=plain\\ space
            PATH=/opt/bin:$PATH
            """)
        #expect(parsed.skipped.isEmpty)
        #expect(env == ["A": "1", "B": "2", "D": "two words", "E": "single $quoted", "F": "plain space",
                        "PATH": "/opt/bin:/usr/bin:/bin"])
    }

    @Test func expansionsSeeEarlierValues() {
        let (env, _) = run("""
            export LANG="${LANG:-"C.UTF-8"}"
            export X=${UNSET-default} Y=${EMPTY:-fallback} Z=${EMPTY-kept}
            export W=${PATH:+set} V=${NOPE+set}
            export U="${A}b$A" A=a
            export T="\\$HOME \\"q\\" \\x"
            """, ["PATH": "/bin", "EMPTY": ""])
        #expect(env["LANG"] == "C.UTF-8")
        #expect(env["X"] == "default" && env["Y"] == "fallback" && env["Z"] == "")
        #expect(env["W"] == "set" && env["V"] == "")
        #expect(env["U"] == "b")  // A is assigned after U is evaluated
        #expect(env["T"] == "$HOME \"q\" \\x")
    }

    @Test func unsetRemoves() {
        let (env, _) = run("unset PATH\nexport Q=1; unset -v Q", ["PATH": "/bin", "KEEP": "1"])
        #expect(env == ["KEEP": "1"])
    }

    @Test func commandsAreSkippedAndReported() {
        let (env, parsed) = run("""
            export A=1
            source /opt/conda/etc/profile.d/conda.sh
            conda activate base
            export B=$(cat /etc/hostname)
            export C=`id -u`
            export D=1 && echo x
            echo hi > /tmp/x
            export E=2
            """)
        #expect(env["A"] == "1" && env["E"] == "2")
        #expect(env["B"] == nil && env["C"] == nil && env["D"] == nil)
        #expect(parsed.skipped.map(\.line) == [2, 3, 4, 5, 6, 7])
        #expect(parsed.skipped[0].text == "source /opt/conda/etc/profile.d/conda.sh")
        #expect(ShellAssignments.lineList(parsed.skipped) == "2-7")
    }

    @Test func blocksAreSkippedWhole() {
        let (env, parsed) = run("""
            if [ -z "$LD_LIBRARY_PATH" ]; then
                LD_LIBRARY_PATH="/.singularity.d/libs"
            else
                LD_LIBRARY_PATH="$LD_LIBRARY_PATH:/.singularity.d/libs"
            fi
            export AFTER=1
            for d in /a /b; do export X=$d; done
            export LAST=1
            """)
        #expect(env["LD_LIBRARY_PATH"] == nil && env["X"] == nil)
        #expect(env["AFTER"] == "1" && env["LAST"] == "1")
        #expect(ShellAssignments.lineList(parsed.skipped) == "1-5, 7")
    }

    @Test func subshellsAndFunctionsStopTheScript() {
        let (env, parsed) = run("""
            export A=1
            setup() {
                export B=2
            }
            export C=3
            """)
        #expect(env["A"] == "1" && env["B"] == nil && env["C"] == nil)
        #expect(parsed.skipped.map(\.line) == [2])
    }

    @Test func continuationsAndSemicolons() {
        let (env, parsed) = run("export A=one\\\ntwo; export B=\"multi\nline\"\nexport C=3")
        #expect(parsed.skipped.isEmpty)
        #expect(env["A"] == "onetwo" && env["B"] == "multi\nline" && env["C"] == "3")
    }

    @Test func tildeAndSpecialParametersAreSkipped() {
        let (env, parsed) = run("export A=~/bin\nexport B=$1\nexport C=\"$@\"\nexport D=${X:=1}\nexport OK=1")
        #expect(env["OK"] == "1" && env["A"] == nil && env["B"] == nil && env["C"] == nil && env["D"] == nil)
        #expect(parsed.skipped.count == 4)
    }

    @Test func readsOfUnsetVariablesAreRecorded() {
        let parsed = ShellAssignments(parsing: "export P=$HOME/bin:$PATH")
        var state = ShellAssignments.State(environment: ["PATH": "/bin"])
        parsed.apply(to: &state)
        #expect(state.unsetReads == ["HOME"])
        #expect(state.environment["P"] == "/bin:/bin")
    }

    @Test func anUnterminatedQuoteIsSkipped() {
        let (env, parsed) = run("export A=1\nexport B=\"open")
        #expect(env["A"] == "1" && env["B"] == nil)
        #expect(parsed.skipped.count == 1)
    }
}
