/*
 * poplink - collecting mail from remote POP3 mailboxes (the controller's
 * poplnk* links) into local accounts.
 *
 * A thread walks the enabled links every Pop3LinkInterval seconds. For a
 * link it connects (POP3S, or plain with STLS when offered, required with
 * FSTLS), logs in (APOP when asked for and offered, else USER/PASS; FAPOP
 * refuses clear text), and for each message: RETR, write it to the spool
 * addressed to the local account, commit (fsync), and only then DELE.
 * With "Leave" messages stay on the server and UIDLs already fetched are
 * remembered in ROOT/pop3links/. The special local forms ('@', '?', '&')
 * are not handled yet and are skipped with a log line.
 */
#ifndef TERN_POPLINK_H
#define TERN_POPLINK_H

struct admin_env;
struct deliver;
struct poplink;

struct poplink *poplink_start(struct admin_env *env, struct deliver *dl);
void poplink_stop(struct poplink *p);

#endif
