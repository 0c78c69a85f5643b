/*
 * fault.h — an ASL error as data: the error name (States.Runtime, a task's own error, …)
 * and its cause. Raised by payload processing, intrinsics, Choice and tasks; matched by
 * Retry/Catch in the engine. A function that raises one returns BT_EFAULT and fills the
 * caller's bt_fault. Embedded: bt_fault_init()/bt_fault_fini().
 */
#ifndef BT_FAULT_H
#define BT_FAULT_H

#include <stdbool.h>

/* AWS's bounds of an error name and a cause (SensitiveError, SensitiveCause), in
 * characters: longer ones are cut there, at a character boundary, when a fault takes them. */
#define BT_FAULT_MAX_ERROR_CHARS 256
#define BT_FAULT_MAX_CAUSE_CHARS 32768

typedef struct bt_fault {
    char *error; /* NULL when no error name (SendTaskFailure without one) */
    char *cause; /* NULL when no cause */
} bt_fault;

void bt_fault_init(bt_fault *f);
void bt_fault_fini(bt_fault *f);
/* Replaces the fault's contents; returns BT_EFAULT so callers can `return bt_fault_set(...)`. */
int bt_fault_set(bt_fault *f, const char *error, const char *cause_fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Takes ownership of the two strings (either may be NULL). */
int bt_fault_take(bt_fault *f, char *error, char *cause);
void bt_fault_move(bt_fault *dst, bt_fault *src);
bool bt_fault_is_set(const bt_fault *f);

#endif
