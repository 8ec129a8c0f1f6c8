#ifndef HUSK_NO_SWIFT_RUNTIME_H
#define HUSK_NO_SWIFT_RUNTIME_H
/* Stand-ins for the Swift runtime functions swiftrt.o calls, for C
   programs that SwiftPM links (no_swift_runtime.c says why). */
void swift_addNewDSOImage(const void *sections);
int _swift_backtrace_isThunkFunction(const char *name);
#endif
