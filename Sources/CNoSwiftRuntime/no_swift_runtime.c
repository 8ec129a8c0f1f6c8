/* SwiftPM links every executable with swiftc, which adds swiftrt.o: its
   constructor registers the image's Swift metadata with the Swift runtime,
   and with --static-swift-stdlib that reference alone links the whole
   runtime (and libstdc++) into a C program, whose start-up then costs
   about 1 ms more. husk-starter and husk (the launcher) have no Swift
   metadata: these no-ops stand in for the two runtime functions swiftrt.o
   refers to. Only C programs depend on this target. */
#include "no_swift_runtime.h"

void swift_addNewDSOImage(const void *sections) { (void)sections; }
int _swift_backtrace_isThunkFunction(const char *name) { (void)name; return 0; }
