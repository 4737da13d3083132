/* Generated from commands.Commands (commands/table.go) by
 *     go test ./commands -run TestCommandTableHeader -update
 * do not edit. The module registers every command from it at load, without Go. */
#ifndef GORAI_COMMAND_TABLE_H
#define GORAI_COMMAND_TABLE_H

/* What a command does with its key (commands.KeyUse); GORAI_KEY_NONE: no key spec is set. */
enum { GORAI_KEY_NONE = -1, GORAI_KEY_READ = 0, GORAI_KEY_WRITE = 1, GORAI_KEY_ROUTE = 2, GORAI_KEY_DELETE = 3 };

/* X(slot, name, flags, first key, last key, key step, key spec use, runs in C, fewest arguments,
 *   most arguments) */
#define GORAI_COMMAND_TABLE(X) \
    X(0, "ai.tensorset", "write deny-oom", 1, 1, 1, GORAI_KEY_WRITE, 1, 4, 2147483647) \
    X(1, "ai.tensorget", "readonly", 1, 1, 1, GORAI_KEY_READ, 1, 2, 4) \
    X(2, "ai.modelstore", "write deny-oom", 1, 1, 1, GORAI_KEY_WRITE, 0, 6, 2147483647) \
    X(3, "ai.modelset", "write deny-oom", 1, 1, 1, GORAI_KEY_WRITE, 0, 4, 2147483647) \
    X(4, "ai.modelget", "readonly", 1, 1, 1, GORAI_KEY_READ, 0, 2, 4) \
    X(5, "ai.modeldel", "write", 1, 1, 1, GORAI_KEY_DELETE, 0, 2, 2) \
    X(6, "ai.modelexecute", "write deny-oom getkeys-api", 4, 4, 1, GORAI_KEY_NONE, 0, 1, 2147483647) \
    X(7, "ai.modelrun", "write deny-oom getkeys-api", 3, 3, 1, GORAI_KEY_NONE, 0, 1, 2147483647) \
    X(8, "ai._modelscan", "readonly", 0, 0, 0, GORAI_KEY_NONE, 0, 1, 1) \
    X(9, "ai.scriptstore", "write deny-oom", 1, 1, 1, GORAI_KEY_WRITE, 0, 8, 2147483647) \
    X(10, "ai.scriptset", "write deny-oom", 1, 1, 1, GORAI_KEY_WRITE, 0, 5, 7) \
    X(11, "ai.scriptget", "readonly", 1, 1, 1, GORAI_KEY_READ, 0, 2, 4) \
    X(12, "ai.scriptdel", "write", 1, 1, 1, GORAI_KEY_DELETE, 0, 2, 2) \
    X(13, "ai.scriptexecute", "write deny-oom getkeys-api", 5, 5, 1, GORAI_KEY_NONE, 0, 3, 2147483647) \
    X(14, "ai.scriptrun", "write deny-oom getkeys-api", 4, 4, 1, GORAI_KEY_NONE, 0, 3, 2147483647) \
    X(15, "ai._scriptscan", "readonly", 0, 0, 0, GORAI_KEY_NONE, 0, 1, 1) \
    X(16, "ai.dagexecute", "write deny-oom getkeys-api", 3, 3, 1, GORAI_KEY_NONE, 0, 6, 2147483647) \
    X(17, "ai.dagexecute_ro", "readonly getkeys-api", 3, 3, 1, GORAI_KEY_NONE, 0, 6, 2147483647) \
    X(18, "ai.dagrun", "write deny-oom getkeys-api", 3, 3, 1, GORAI_KEY_NONE, 0, 4, 2147483647) \
    X(19, "ai.dagrun_ro", "readonly getkeys-api", 3, 3, 1, GORAI_KEY_NONE, 0, 4, 2147483647) \
    X(20, "ai.info", "readonly", 1, 1, 1, GORAI_KEY_READ, 0, 2, 3) \
    X(21, "ai.config", "write", 0, 0, 0, GORAI_KEY_NONE, 0, 2, 2147483647) \

#define GORAI_NUM_COMMANDS 22

#endif
