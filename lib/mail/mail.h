/* E-mail for notify: building real MIME messages with GMime 3 (UTF-8 body,
 * RFC 2047 subject and display names, Date in +0700, a unique Message-ID,
 * attachments) and delivering them to an mbox stream, a Maildir, a sendmail
 * command run without a shell, or an SMTP server through libcurl.
 *
 * Data never reaches a header unchecked: subjects and display names lose
 * their control characters (CR and LF included) and their encoded-word
 * openers ("=?") before GMime encodes them,
 * and an address must be a plain addr-spec (cb_mail_address_ok), so a
 * record cannot add a Bcc: or end the header block.
 *
 * GMime and libcurl have process-wide initialisation: the program calls
 * cb_mail_global_init() once before anything here and cb_mail_global_done()
 * at the end. */
#ifndef CB_MAIL_H
#define CB_MAIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cb_err.h"

int cb_mail_global_init(cb_err *err);
void cb_mail_global_done(void);

/* 1 when s is an address we send to: local@domain, dot-atom characters in
 * the local part, letters/digits/hyphens in dot-separated domain labels
 * (at least two), at most 254 bytes; else 0. */
int cb_mail_address_ok(const char *s);

/* Parses a From given as "addr" or "Display Name <addr>" (the name may be
 * UTF-8). *name (possibly "") and *addr are malloc'd. EX_USAGE when it is
 * not one valid mailbox. */
int cb_mail_parse_mailbox(const char *spec, char **name, char **addr, cb_err *err);

typedef struct cb_mail_attachment {
    const char *filename;        /* shown to the reader; no directory */
    const char *content_type;    /* e.g. "application/pkix-cert" */
    const unsigned char *data;
    size_t len;
} cb_mail_attachment;

typedef struct cb_mail_msg {
    const char *from_name, *from_addr;
    const char *to_name, *to_addr;   /* to_name may be NULL or "" */
    const char *subject;             /* UTF-8 */
    const char *body;                /* UTF-8 text/plain */
    const cb_mail_attachment *att;
    size_t natt;
    int64_t date;                    /* seconds since the epoch; shown in +0700 */
    const char *message_id;          /* without <>, or NULL for a new random one */
} cb_mail_msg;

/* Builds the message: *out (malloc'd, len bytes, LF or CRLF line ends) and
 * *message_id (malloc'd, without angle brackets). EX_DATAERR for an address
 * that cb_mail_address_ok refuses. */
int cb_mail_build(const cb_mail_msg *m, int crlf, char **out, size_t *len, char **message_id,
                  cb_err *err);

/* Replaces control characters (C0, DEL, C1, U+2028/2029) and invalid UTF-8
 * by spaces, trims, and breaks every "=?" into "= ?" so that data cannot
 * pass for an RFC 2047 encoded-word: what a header value may keep. Returns
 * a malloc'd copy, or NULL when out of memory. */
char *cb_mail_header_text(const char *s);

enum cb_mail_transport {
    CB_MAIL_MBOX,
    CB_MAIL_MAILDIR,
    CB_MAIL_SENDMAIL,
    CB_MAIL_SMTP,
};

typedef struct cb_mailer_opts {
    enum cb_mail_transport kind;
    FILE *mbox;                /* CB_MAIL_MBOX: where the mbox goes */
    const char *maildir;       /* CB_MAIL_MAILDIR: created with tmp/new/cur */
    const char *sendmail;      /* CB_MAIL_SENDMAIL: command and arguments split
                                  on spaces, run without a shell; NULL for
                                  "/usr/sbin/sendmail -t -oi" */
    const char *smtp_url;      /* CB_MAIL_SMTP: smtp://host:port or smtps:// */
    const char *login_file;    /* SMTP: user on line 1, password on line 2 */
    int require_tls;           /* SMTP: STARTTLS must succeed (else: if offered) */
    long timeout;              /* SMTP: seconds per message, 0 for 60 */
    int maildir_named_tmp;     /* Maildir: letters written under a name in
                                  tmp/ even where O_TMPFILE works */
} cb_mailer_opts;

typedef struct cb_mailer cb_mailer;

/* A transport as one word (notify's --deliver): maildir:DIR, mbox,
 * sendmail[:CMD], smtp://HOST[:PORT] or smtps://...; 0, or -1 when spec is
 * none of them. The strings stay spec's. */
int cb_mailer_opts_parse(const char *spec, cb_mailer_opts *mo);

cb_mailer *cb_mailer_open(const cb_mailer_opts *o, cb_err *err);
/* 1 when the transport wants CRLF line ends (SMTP). */
int cb_mailer_crlf(const cb_mailer *m);
/* Hands one message for rcpt to the transport. key, when not NULL, names
 * the notices the letter carries (the same key for the same letter on a
 * re-run): a Maildir names the letter's file after it and returns 1,
 * writing nothing, when that letter is there already (a run killed before
 * it recorded the letter as sent). Returns 0, 1, or -1 with err->code:
 * EX_NOUSER    the server refused it for good (5xx, a sendmail refusal):
 *              reject the records;
 * EX_TEMPFAIL  try again later (4xx, no connection, timeout);
 * other        a local failure that stops the run (EX_CANTCREAT, EX_IOERR,
 *              EX_UNAVAILABLE when sendmail cannot be run).
 * SMTP keeps one connection for all the letters (libcurl reuses it, and
 * opens a new one when the server dropped it or after a refusal). */
int cb_mailer_send(cb_mailer *m, const char *env_from, const char *rcpt, const char *key, const char *msg,
                   size_t len, cb_err *err);
/* A Maildir holds the letters handed to it until cb_mailer_flush delivers
 * them: written as unnamed files in tmp/ (O_TMPFILE, held open), or where
 * the file system has none under a name in tmp/; the files synced (one
 * syncfs), linked into new/, new/ synced once for the batch. A batch is
 * CB_MAILER_BATCH letters, fewer when the descriptor limit (RLIMIT_NOFILE)
 * leaves no room for that many open files: the program raises its soft
 * limit first. The caller records letters as sent only after
 * the flush; a crash before leaves them undelivered (or, keyed, found on the
 * re-run). cb_mailer_due is 1 when the caller should flush now: a Maildir's
 * batch is full, or the transport holds nothing (mbox, sendmail, SMTP). */
#define CB_MAILER_BATCH 1024
int cb_mailer_due(const cb_mailer *m);
int cb_mailer_flush(cb_mailer *m, cb_err *err);
/* Drops what a Maildir still holds (never delivered), ends an SMTP session. */
int cb_mailer_close(cb_mailer *m, cb_err *err);

#endif
