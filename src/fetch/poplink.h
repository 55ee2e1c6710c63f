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
 * remembered in ROOT/pop3links/.
 *
 * The local side of a link is an account ("domain", "user"), or one of
 * the special forms of the local-domain field:
 *   "@domain"             to local-user@domain through the spool (any domain);
 *   "?masq,dom1,dom2..."  to every address of dom1, dom2... named in the
 *                         message's To/Cc/Bcc, re-addressed to local-part@masq;
 *   "&suffix,dom1,..."    to every such address with suffix appended
 *                         (john@dom1 with "&.lan" -> john@dom1.lan).
 * The local-user field is not used by '?' and '&'. A message naming no
 * address of the listed domains is kept in spool/held (addressed to
 * postmaster@ the masquerading or first suffixed domain) with a log line.
 */
#ifndef TERN_POPLINK_H
#define TERN_POPLINK_H

struct admin_env;
struct deliver;
struct poplink;

struct poplink *poplink_start(struct admin_env *env, struct deliver *dl);
void poplink_stop(struct poplink *p);

#endif
