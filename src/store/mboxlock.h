/*
 * mboxlock - who may touch a mailbox directory right now.
 *
 * Two process-wide locks:
 *   - the maildrop locks of RFC 1939: one POP3 session per mailbox, keyed
 *     "DOMAIN/ACCOUNT-DIR" (ASCII case-insensitive). A rename holds the key
 *     of the mailbox it moves, so a POP3 login meanwhile is answered
 *     [IN-USE], and refuses to move a mailbox a live session holds;
 *   - the moves lock: every delivery run holds it shared from the look-up
 *     of its recipients to the last rename into a Maildir, a rename of an
 *     account or a domain holds it exclusively while it moves directories
 *     (and so do userdel and domaindel, from the row's deletion to the
 *     move of its directory to the trash),
 *     so a message being delivered never lands in a directory that is
 *     being moved (it is delivered before, or resolved after, the move).
 */
#ifndef TERN_MBOXLOCK_H
#define TERN_MBOXLOCK_H

#include <stdbool.h>

/* false: the key is held already. */
bool mboxlock_take(const char *key);
void mboxlock_drop(const char *key);
/* Is any key of the domain ("DOMAIN/...") held? */
bool mboxlock_domain_busy(const char *domain);

void mbox_use_begin(void);   /* shared: delivery */
void mbox_use_end(void);
void mbox_moves_begin(void); /* exclusive: renames */
void mbox_moves_end(void);

#endif
