/* E-mail building and delivery for notify: see mail.h. GMime does the MIME
 * (encodings, RFC 2047, folding); libcurl does SMTP; this file checks what
 * data may enter a header and writes mbox and Maildir the way their readers
 * expect. */
#define _GNU_SOURCE   /* syncfs, O_TMPFILE */
#include "mail.h"
#include "identifiers.h"
#include "vntext.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <gmime/gmime.h>
#include <openssl/evp.h>

#include "atomic.h"
#include "strmap.h"

int cb_mail_global_init(cb_err *err)
{
    g_mime_init();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return cb_err_set(err, EX_SOFTWARE, "cannot initialise libcurl");
    return 0;
}

void cb_mail_global_done(void)
{
    curl_global_cleanup();
    g_mime_shutdown();
}

int cb_mail_address_ok(const char *s)
{
    /* The same addr-spec rule validate-form applies, without its official
     * domain list: notify writes to whoever the records name. */
    return cb_email_check(s, NULL);
}

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s, unsigned *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (n == 0 || s[0] > 0xF4)
        return 0;
    unsigned c = s[0] & (0x3F >> (n - 1));
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3F);
    }
    static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < min[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

char *cb_mail_header_text(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(2 * n + 1), *o = out;   /* room for a space before each '?' */
    if (out == NULL)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned cp;
        size_t l = utf8_len(p, &cp);
        if (l == 0 || cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || cp == 0x2028 || cp == 0x2029) {
            if (o > out && o[-1] != ' ')
                *o++ = ' ';
            p += l ? l : 1;
            continue;
        }
        if (cp == ' ' && (o == out || o[-1] == ' ')) {
            p++;
            continue;
        }
        /* "=?" opens an RFC 2047 encoded-word, which a reader decodes even
         * where GMime leaves the text as it is (a quoted display name):
         * "=?utf-8?q?x?= <evil@x.com>" would read as a second address. A
         * space after the '=' keeps the text readable and inert. */
        if (cp == '?' && o > out && o[-1] == '=')
            *o++ = ' ';
        memcpy(o, p, l);
        o += l;
        p += l;
    }
    while (o > out && o[-1] == ' ')
        o--;
    *o = '\0';
    return out;
}

int cb_mail_parse_mailbox(const char *spec, char **name, char **addr, cb_err *err)
{
    *name = *addr = NULL;
    if (strpbrk(spec, "\r\n") != NULL)
        return cb_err_set(err, EX_USAGE, "'%s' is not one e-mail address", spec);
    InternetAddressList *l = internet_address_list_parse(NULL, spec);
    int rc = -1;
    if (l != NULL && internet_address_list_length(l) == 1) {
        InternetAddress *ia = internet_address_list_get_address(l, 0);
        if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
            const char *n = internet_address_get_name(ia);
            if (a != NULL && cb_mail_address_ok(a)) {
                *addr = strdup(a);
                *name = cb_mail_header_text(n ? n : "");
                rc = 0;
            }
        }
    }
    if (l != NULL)
        g_object_unref(l);
    if (rc < 0)
        return cb_err_set(err, EX_USAGE, "'%s' is not one e-mail address", spec);
    if (*name == NULL || *addr == NULL) {
        free(*name);
        free(*addr);
        *name = *addr = NULL;
        return cb_err_set(err, EX_OSERR, "out of memory");
    }
    return 0;
}

int cb_mail_build(const cb_mail_msg *m, int crlf, char **out, size_t *len, char **message_id, cb_err *err)
{
    *out = NULL;
    *message_id = NULL;
    if (!cb_mail_address_ok(m->to_addr))
        return cb_err_set(err, EX_DATAERR, "'%s' is not a valid e-mail address", m->to_addr);
    if (!cb_mail_address_ok(m->from_addr))
        return cb_err_set(err, EX_USAGE, "'%s' is not a valid sender address", m->from_addr);
    char *subject = cb_mail_header_text(m->subject ? m->subject : "");
    char *to_name = cb_mail_header_text(m->to_name ? m->to_name : "");
    char *from_name = cb_mail_header_text(m->from_name ? m->from_name : "");
    if (subject == NULL || to_name == NULL || from_name == NULL) {
        free(subject);
        free(to_name);
        free(from_name);
        return cb_err_set(err, EX_OSERR, "out of memory");
    }

    GMimeMessage *msg = g_mime_message_new(TRUE);
    g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, from_name, m->from_addr);
    g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, to_name, m->to_addr);
    g_mime_message_set_subject(msg, subject, "utf-8");

    GTimeZone *tz = g_time_zone_new_offset(7 * 3600);
    GDateTime *utc = g_date_time_new_from_unix_utc(m->date);
    GDateTime *local = g_date_time_to_timezone(utc, tz);
    g_mime_message_set_date(msg, local);
    g_date_time_unref(local);
    g_date_time_unref(utc);
    g_time_zone_unref(tz);

    const char *domain = strrchr(m->from_addr, '@') + 1;
    char *mid = m->message_id ? g_strdup(m->message_id) : g_mime_utils_generate_message_id(domain);
    g_mime_message_set_message_id(msg, mid);
    /* RFC 3834: keeps vacation responders from answering a notice. */
    g_mime_object_set_header(GMIME_OBJECT(msg), "Auto-Submitted", "auto-generated", NULL);
    g_mime_object_set_header(GMIME_OBJECT(msg), "Content-Language", "vi", NULL);

    GMimeTextPart *text = g_mime_text_part_new_with_subtype("plain");
    g_mime_text_part_set_text(text, m->body ? m->body : "");
    g_mime_text_part_set_charset(text, "utf-8");
    g_mime_object_encode(GMIME_OBJECT(text), GMIME_ENCODING_CONSTRAINT_7BIT);

    if (m->natt == 0) {
        g_mime_message_set_mime_part(msg, GMIME_OBJECT(text));
    } else {
        GMimeMultipart *mp = g_mime_multipart_new_with_subtype("mixed");
        g_mime_multipart_add(mp, GMIME_OBJECT(text));
        for (size_t i = 0; i < m->natt; i++) {
            const cb_mail_attachment *a = &m->att[i];
            const char *slash = strchr(a->content_type, '/');
            char *type = strndup(a->content_type, slash ? (size_t)(slash - a->content_type) : strlen(a->content_type));
            GMimePart *part = g_mime_part_new_with_type(type, slash ? slash + 1 : "octet-stream");
            free(type);
            GMimeStream *st = g_mime_stream_mem_new_with_buffer((const char *)a->data, a->len);
            GMimeDataWrapper *dw = g_mime_data_wrapper_new_with_stream(st, GMIME_CONTENT_ENCODING_DEFAULT);
            g_mime_part_set_content(part, dw);
            g_object_unref(dw);
            g_object_unref(st);
            g_mime_object_set_disposition(GMIME_OBJECT(part), "attachment");
            char *fname = cb_mail_header_text(a->filename);
            g_mime_part_set_filename(part, fname ? fname : "attachment");
            free(fname);
            g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
            g_mime_multipart_add(mp, GMIME_OBJECT(part));
            g_object_unref(part);
        }
        g_mime_message_set_mime_part(msg, GMIME_OBJECT(mp));
        g_object_unref(mp);
    }
    g_object_unref(text);

    GMimeFormatOptions *fo = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(fo, crlf ? GMIME_NEWLINE_FORMAT_DOS : GMIME_NEWLINE_FORMAT_UNIX);
    char *s = g_mime_object_to_string(GMIME_OBJECT(msg), fo);
    g_mime_format_options_free(fo);
    g_object_unref(msg);
    free(subject);
    free(to_name);
    free(from_name);

    int rc = 0;
    if (s == NULL || (*out = strdup(s)) == NULL || (*message_id = strdup(mid)) == NULL) {
        free(*out);
        *out = NULL;
        rc = cb_err_set(err, EX_SOFTWARE, "cannot build the message");
    } else {
        *len = strlen(*out);
    }
    g_free(s);
    g_free(mid);
    return rc;
}

/* Delivery. */

/* A letter written, not yet in new/: its file open (O_TMPFILE) or its name
 * in tmp/, and its name in new/. */
struct maildir_held {
    int fd;
    char tmp[160], dst[176];
};

struct cb_mailer {
    cb_mailer_opts o;
    struct maildir_held *held;   /* batch of them */
    size_t nheld, batch;
    int tmpfile;                 /* 1: the letters are O_TMPFILE files */
    int via_proc;                /* 1: they are linked through /proc */
    long pid;
    int tmpfd, newfd;            /* the Maildir's tmp/ and new/ */
    cb_strmap read;              /* our letters in cur/ */
    int read_loaded;
    char *maildir;
    char **argv;           /* sendmail */
    CURL *curl;
    char *user, *pass;
    unsigned seq;
    char host[64];
    char errbuf[CURL_ERROR_SIZE];
};

static void wipe_free(char *s)
{
    if (s != NULL) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

/* Removes what a killed notify of this host left in tmp/: a letter it was
 * writing (never delivered, the re-run sends it) or one it had linked into
 * new/ but not yet unlinked. Its name says whose: "...P<pid>Q<n>.<host>". */
static void maildir_sweep(const cb_mailer *m)
{
    size_t n = strlen(m->maildir) + 8;
    char *tmp = malloc(n);
    if (tmp == NULL)
        return;
    snprintf(tmp, n, "%s/tmp", m->maildir);
    DIR *d = opendir(tmp);
    free(tmp);
    if (d == NULL)
        return;
    struct dirent *de;
    size_t hl = strlen(m->host);
    while ((de = readdir(d)) != NULL) {
        const char *p = strchr(de->d_name, 'P'), *q = p ? strchr(p, 'Q') : NULL;
        size_t l = strlen(de->d_name);
        if (p == NULL || q == NULL || l <= hl || strcmp(de->d_name + l - hl, m->host) != 0 ||
            de->d_name[l - hl - 1] != '.')
            continue;
        long pid = strtol(p + 1, NULL, 10);
        if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            unlinkat(dirfd(d), de->d_name, 0);
    }
    closedir(d);
}

/* A letter as an O_TMPFILE file costs one inode operation where a name in
 * tmp/ costs three (create, link, unlink), and a killed run leaves nothing
 * behind; but each letter's file stays open until its batch is linked into
 * new/ (by its descriptor, or where that needs a privilege the process has
 * not, through /proc/self/fd). The batch that fits beside 64 other descriptors, at most
 * CB_MAILER_BATCH; 0 when the file system, /proc or the limit says no. */
static size_t maildir_tmpfile_batch(const cb_mailer *m)
{
    struct rlimit rl;
    if (m->o.maildir_named_tmp || getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < 128)
        return 0;
    int fd = openat(m->tmpfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0)
        return 0;
    char proc[32];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    int seen = access(proc, F_OK) == 0;
    close(fd);
    if (!seen)
        return 0;
    return rl.rlim_cur - 64 < CB_MAILER_BATCH ? (size_t)(rl.rlim_cur - 64) : CB_MAILER_BATCH;
}

static int mkdir_p(const char *path, cb_err *err)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return 0;
        errno = ENOTDIR;
    }
    return cb_err_sys(err, EX_CANTCREAT, "cannot create directory %s", path);
}

static int read_login(cb_mailer *m, const char *path, cb_err *err)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return cb_err_sys(err, errno == ENOENT ? EX_NOINPUT : EX_IOERR, "cannot open login file %s", path);
    char *lines[2] = {NULL, NULL};
    size_t cap[2] = {0, 0};
    int rc = 0;
    for (int i = 0; i < 2; i++) {
        ssize_t n = getline(&lines[i], &cap[i], fp);
        if (n <= 0) {
            rc = cb_err_set(err, EX_DATAERR, "%s: expected the user name on line 1 and the password on line 2", path);
            break;
        }
        while (n > 0 && (lines[i][n - 1] == '\n' || lines[i][n - 1] == '\r'))
            lines[i][--n] = '\0';
    }
    fclose(fp);
    if (rc == 0) {
        m->user = lines[0];
        m->pass = lines[1];
    } else {
        /* getline may leave a buffer without a NUL at EOF: wipe by size. */
        for (int i = 0; i < 2; i++)
            if (lines[i] != NULL) {
                explicit_bzero(lines[i], cap[i]);
                free(lines[i]);
            }
    }
    return rc;
}

/* --deliver: the transport as one word, so that a pipeline switches from a
 * Maildir to SMTP by one variable. */
int cb_mailer_opts_parse(const char *spec, cb_mailer_opts *mo)
{
    if (!strncmp(spec, "maildir:", 8) && spec[8]) {
        mo->kind = CB_MAIL_MAILDIR;
        mo->maildir = spec + 8;
    } else if (!strcmp(spec, "mbox")) {
        mo->kind = CB_MAIL_MBOX;
    } else if (!strcmp(spec, "sendmail") || (!strncmp(spec, "sendmail:", 9) && spec[9])) {
        mo->kind = CB_MAIL_SENDMAIL;
        mo->sendmail = spec[8] ? spec + 9 : NULL;
    } else if (!strncmp(spec, "smtp://", 7) || !strncmp(spec, "smtps://", 8)) {
        mo->kind = CB_MAIL_SMTP;
        mo->smtp_url = spec;
    } else {
        return -1;
    }
    return 0;
}

static int open_subdir(const cb_mailer *m, const char *sub, cb_err *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", m->maildir, sub);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        cb_err_sys(err, EX_CANTCREAT, "cannot open %s", path);
    return fd;
}

cb_mailer *cb_mailer_open(const cb_mailer_opts *o, cb_err *err)
{
    cb_mailer *m = calloc(1, sizeof *m);
    if (m == NULL) {
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    m->tmpfd = m->newfd = -1;
    m->o = *o;
    if (gethostname(m->host, sizeof m->host) != 0)
        strcpy(m->host, "localhost");
    m->host[sizeof m->host - 1] = '\0';
    /* Maildir names may not hold '/' or ':'. */
    for (char *p = m->host; *p; p++)
        if (*p == '/' || *p == ':')
            *p = '_';
    switch (o->kind) {
    case CB_MAIL_MBOX:
        break;
    case CB_MAIL_MAILDIR: {
        if (strlen(o->maildir) > PATH_MAX - 128) {
            cb_err_set(err, EX_USAGE, "the Maildir's name is too long");
            goto fail;
        }
        m->maildir = strdup(o->maildir);
        size_t n = strlen(o->maildir) + 8;
        char *sub = malloc(n);
        if (m->maildir == NULL || sub == NULL) {
            free(sub);
            cb_err_set(err, EX_OSERR, "out of memory");
            goto fail;
        }
        int rc = mkdir_p(o->maildir, err);
        static const char *const subs[] = {"tmp", "new", "cur"};
        for (int i = 0; rc == 0 && i < 3; i++) {
            snprintf(sub, n, "%s/%s", o->maildir, subs[i]);
            rc = mkdir_p(sub, err);
        }
        free(sub);
        if (rc < 0)
            goto fail;
        if ((m->held = calloc(CB_MAILER_BATCH, sizeof *m->held)) == NULL) {
            cb_err_set(err, EX_OSERR, "out of memory");
            goto fail;
        }
        if ((m->tmpfd = open_subdir(m, "tmp", err)) < 0 || (m->newfd = open_subdir(m, "new", err)) < 0)
            goto fail;
        m->pid = (long)getpid();
        m->batch = maildir_tmpfile_batch(m);
        m->tmpfile = m->batch > 0;
        if (!m->tmpfile)
            m->batch = CB_MAILER_BATCH;
        maildir_sweep(m);
        break;
    }
    case CB_MAIL_SENDMAIL: {
        const char *cmd = o->sendmail ? o->sendmail : "/usr/sbin/sendmail -t -oi";
        size_t n = strlen(cmd);
        m->argv = calloc(n / 2 + 2, sizeof *m->argv);
        if (m->argv == NULL) {
            cb_err_set(err, EX_OSERR, "out of memory");
            goto fail;
        }
        size_t k = 0;
        for (const char *p = cmd; *p;) {
            while (*p == ' ' || *p == '\t')
                p++;
            const char *e = p;
            while (*e && *e != ' ' && *e != '\t')
                e++;
            if (e > p && (m->argv[k++] = strndup(p, (size_t)(e - p))) == NULL) {
                cb_err_set(err, EX_OSERR, "out of memory");
                goto fail;
            }
            p = e;
        }
        if (k == 0) {
            cb_err_set(err, EX_USAGE, "--sendmail: empty command");
            goto fail;
        }
        break;
    }
    case CB_MAIL_SMTP:
        if (o->login_file != NULL && read_login(m, o->login_file, err) < 0)
            goto fail;
        m->curl = curl_easy_init();
        if (m->curl == NULL) {
            cb_err_set(err, EX_SOFTWARE, "cannot start libcurl");
            goto fail;
        }
        break;
    }
    return m;
fail:
    cb_mailer_close(m, NULL);
    return NULL;
}

int cb_mailer_crlf(const cb_mailer *m)
{
    return m->o.kind == CB_MAIL_SMTP;
}

static int write_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, s, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        s += w;
        len -= (size_t)w;
    }
    return 0;
}

/* mboxrd: a "From " line starts each message, and body lines that look like
 * one (after any '>') get one more '>', so readers can undo it. */
static int send_mbox(cb_mailer *m, const char *env_from, const char *msg, size_t len, cb_err *err)
{
    FILE *fp = m->o.mbox;
    time_t now = time(NULL);
    struct tm tm;
    char date[64];
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm);
    fprintf(fp, "From %s %s\n", env_from, date);
    const char *p = msg, *end = msg + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl + 1 : end;
        const char *q = p;
        while (q < le && *q == '>')
            q++;
        if (le - q >= 5 && memcmp(q, "From ", 5) == 0)
            fputc('>', fp);
        fwrite(p, 1, (size_t)(le - p), fp);
        p = le;
    }
    if (len == 0 || msg[len - 1] != '\n')
        fputc('\n', fp);
    fputc('\n', fp);
    if (ferror(fp))
        return cb_err_sys(err, EX_IOERR, "cannot write the mbox");
    return 0;
}

/* The Maildir way, a batch at a time: each letter is written under tmp/
 * and held; cb_mailer_flush syncs the files, links them into new/ (so a
 * reader never sees part of a message), syncs new/ once for the whole batch
 * and clears tmp/. A letter with a key (the notices it carries) is named
 * after it, "certbatch.<hash>", so a run killed after the letter reached
 * new/ but before the ledger recorded it finds it there (or in cur/, once
 * read) and does not write it again. */
static void maildir_key_name(const char *key, char name[48])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_Digest(key, strlen(key), md, &mdlen, EVP_sha256(), NULL);
    memcpy(name, "certbatch.", 10);
    for (unsigned i = 0; i < 16; i++)
        snprintf(name + 10 + 2 * i, 3, "%02x", md[i]);
}

/* The names of our letters that a reader moved into cur/ (their base,
 * before the ':' of the flags), read once. */
static int maildir_load_read(cb_mailer *m, cb_err *err)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/cur", m->maildir);
    DIR *d = opendir(dir);
    if (d == NULL)
        return cb_err_sys(err, EX_IOERR, "cannot read %s", dir);
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "certbatch.", 10) != 0)
            continue;
        char *colon = strchr(de->d_name, ':');
        if (colon != NULL)
            *colon = '\0';
        if (cb_strmap_put(&m->read, de->d_name, "") < 0)
            rc = cb_err_set(err, EX_OSERR, "out of memory");
    }
    closedir(d);
    m->read_loaded = 1;
    return rc;
}

/* 1 when the letter named name is in new/ or cur/ already, 0 when not,
 * -1 (err set) when cur/ cannot be read. */
static int maildir_has(cb_mailer *m, const char *name, cb_err *err)
{
    if (faccessat(m->newfd, name, F_OK, 0) == 0)
        return 1;
    if (!m->read_loaded && maildir_load_read(m, err) < 0)
        return -1;
    return cb_strmap_get(&m->read, name) != NULL;
}

/* A letter's file held for the batch goes: closed, or its name in tmp/
 * removed. */
static void maildir_drop(cb_mailer *m, struct maildir_held *h)
{
    if (h->fd >= 0)
        close(h->fd);
    else
        unlinkat(m->tmpfd, h->tmp, 0);
    h->fd = -1;
}

/* The letter's file, open for writing: unnamed (O_TMPFILE), or under a
 * name in tmp/ no other process of any host takes (time, pid, count,
 * host). Either way h->tmp is such a name: the letter's in new/ when it
 * has no key. */
static int maildir_create(cb_mailer *m, struct maildir_held *h, cb_err *err)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    h->fd = -1;
    for (int attempt = 0; attempt < 100; attempt++) {
        snprintf(h->tmp, sizeof h->tmp, "%lld.M%ldP%ldQ%u.%s", (long long)tv.tv_sec, (long)tv.tv_usec, m->pid,
                 ++m->seq, m->host);
        int fd = m->tmpfile ? openat(m->tmpfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600)
                            : openat(m->tmpfd, h->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0)
            return fd;
        if (errno != EEXIST)
            return cb_err_sys(err, EX_CANTCREAT, "cannot create a letter in %s/tmp", m->maildir);
    }
    return cb_err_set(err, EX_CANTCREAT, "cannot find a unique file name in %s/tmp", m->maildir);
}

static int send_maildir(cb_mailer *m, const char *key, const char *msg, size_t len, cb_err *err)
{
    struct maildir_held *h = &m->held[m->nheld];
    if (key != NULL) {
        maildir_key_name(key, h->dst);
        int has = maildir_has(m, h->dst, err);
        if (has != 0)
            return has;
    }
    int fd = maildir_create(m, h, err);
    if (fd < 0)
        return -1;
    if (key == NULL)
        snprintf(h->dst, sizeof h->dst, "%s", h->tmp);
    int bad = write_all(fd, msg, len) < 0;
    if (m->tmpfile)
        h->fd = fd;
    else if (close(fd) != 0)
        bad = 1;
    if (bad) {
        cb_err_sys(err, EX_IOERR, "cannot write a letter in %s/tmp", m->maildir);
        maildir_drop(m, h);
        return -1;
    }
    m->nheld++;
    return 0;
}

/* Links one letter into new/; a keyed name already there is the same
 * letter. */
static int maildir_link(cb_mailer *m, const struct maildir_held *h, cb_err *err)
{
    char proc[32], dst[200];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", h->fd);
    for (int i = 0;; i++) {
        if (i == 0)
            snprintf(dst, sizeof dst, "%s", h->dst);
        else
            snprintf(dst, sizeof dst, "%s.%d", h->dst, i);
        if (h->fd < 0 ? linkat(m->tmpfd, h->tmp, m->newfd, dst, 0) == 0
            : m->via_proc ? linkat(AT_FDCWD, proc, m->newfd, dst, AT_SYMLINK_FOLLOW) == 0
                          : linkat(h->fd, "", m->newfd, dst, AT_EMPTY_PATH) == 0)
            return 0;
        /* Without CAP_DAC_READ_SEARCH the empty path is not looked up. */
        if (h->fd >= 0 && !m->via_proc && errno == ENOENT) {
            m->via_proc = 1;
            i--;
            continue;
        }
        if (errno != EEXIST || i > 9)
            return cb_err_sys(err, EX_CANTCREAT, "cannot deliver into %s/new", m->maildir);
        if (strncmp(h->dst, "certbatch.", 10) == 0)
            return 0;
    }
}

/* Delivers the letters held (deliver) or drops them, and clears tmp/.
 * Their data is made durable by one syncfs of the Maildir's file system:
 * an fsync per file costs a disk cache flush each (4 ms here, 250 letters
 * a second at best), one syncfs costs one for the whole batch. The fsync
 * of new/ then makes their names durable; on a journalling file system
 * (ext4, XFS) the same commit carries the link counts, O_TMPFILE's too. */
static int maildir_flush(cb_mailer *m, int deliver, cb_err *err)
{
    int rc = 0;
    if (m->nheld == 0)
        return 0;
    if (deliver && syncfs(m->tmpfd) != 0)
        rc = cb_err_sys(err, EX_IOERR, "cannot write the letters in %s/tmp", m->maildir);
    for (size_t i = 0; deliver && rc == 0 && i < m->nheld; i++)
        rc = maildir_link(m, &m->held[i], err);
    if (deliver && rc == 0 && fsync(m->newfd) != 0)
        rc = cb_err_sys(err, EX_IOERR, "cannot sync %s/new", m->maildir);
    for (size_t i = 0; i < m->nheld; i++)
        maildir_drop(m, &m->held[i]);
    if (!m->tmpfile)
        fsync(m->tmpfd);   /* tidiness: a name left in tmp/ is swept on the next run */
    m->nheld = 0;
    return rc;
}

static int send_sendmail(cb_mailer *m, const char *msg, size_t len, cb_err *err)
{
    int pfd[2], efd[2];
    if (pipe(pfd) < 0)
        return cb_err_sys(err, EX_OSERR, "cannot make a pipe");
    /* The child reports a failed exec through this close-on-exec pipe, so
     * "cannot run sendmail" is not mistaken for a refused message. */
    if (pipe(efd) < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return cb_err_sys(err, EX_OSERR, "cannot make a pipe");
    }
    fcntl(efd[1], F_SETFD, FD_CLOEXEC);
    fcntl(pfd[1], F_SETFD, FD_CLOEXEC);
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        close(efd[0]);
        close(efd[1]);
        return cb_err_sys(err, EX_OSERR, "cannot fork");
    }
    if (pid == 0) {
        close(efd[0]);
        if (dup2(pfd[0], 0) < 0)
            _exit(127);
        close(pfd[0]);
        execvp(m->argv[0], m->argv);
        int e = errno;
        (void)!write(efd[1], &e, sizeof e);
        _exit(127);
    }
    close(pfd[0]);
    close(efd[1]);
    /* SIGPIPE would kill us if sendmail exits early; a write error is
     * enough to know. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old);
    int werr = write_all(pfd[1], msg, len) < 0 ? errno : 0;
    close(pfd[1]);
    sigaction(SIGPIPE, &old, NULL);
    int exec_errno = 0;
    ssize_t got;
    while ((got = read(efd[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR)
        ;
    close(efd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return cb_err_sys(err, EX_OSERR, "cannot wait for %s", m->argv[0]);
    if (got == (ssize_t)sizeof exec_errno) {
        errno = exec_errno;
        return cb_err_sys(err, EX_UNAVAILABLE, "cannot run %s", m->argv[0]);
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && werr == 0)
        return 0;
    if (WIFEXITED(st)) {
        int c = WEXITSTATUS(st);
        /* sendmail's own sysexits: these say the message itself is bad. */
        if (c == EX_NOUSER || c == EX_NOHOST || c == EX_DATAERR || c == EX_USAGE)
            return cb_err_set(err, EX_NOUSER, "%s refused the message (exit status %d)", m->argv[0], c);
        return cb_err_set(err, EX_TEMPFAIL, "%s failed (exit status %d)", m->argv[0], c);
    }
    return cb_err_set(err, EX_TEMPFAIL, "%s was killed by signal %d", m->argv[0],
                      WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

struct upload {
    const char *p;
    size_t left;
};

static size_t read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
    struct upload *u = arg;
    size_t n = size * nitems;
    if (n > u->left)
        n = u->left;
    memcpy(buf, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

static int send_smtp(cb_mailer *m, const char *env_from, const char *rcpt, const char *msg, size_t len,
                     cb_err *err)
{
    CURL *c = m->curl;
    char from[300], to[300];
    snprintf(from, sizeof from, "<%s>", env_from);
    snprintf(to, sizeof to, "<%s>", rcpt);
    struct curl_slist *rcpts = curl_slist_append(NULL, to);
    if (rcpts == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    struct upload u = {msg, len};
    m->errbuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, m->o.smtp_url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_USE_SSL, (long)(m->o.require_tls ? CURLUSESSL_ALL : CURLUSESSL_TRY));
    if (m->user != NULL) {
        curl_easy_setopt(c, CURLOPT_USERNAME, m->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, m->pass);
    }
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &u);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, m->o.timeout > 0 ? m->o.timeout : 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, m->errbuf);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(rcpts);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, NULL);
    if (rc == CURLE_OK)
        return 0;
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    const char *why = m->errbuf[0] ? m->errbuf : curl_easy_strerror(rc);
    if (code >= 500 && code < 600)
        return cb_err_set(err, EX_NOUSER, "the mail server refused the message for %s: %s", rcpt, why);
    return cb_err_set(err, EX_TEMPFAIL, "cannot deliver through %s: %s", m->o.smtp_url, why);
}

int cb_mailer_send(cb_mailer *m, const char *env_from, const char *rcpt, const char *key, const char *msg,
                   size_t len, cb_err *err)
{
    switch (m->o.kind) {
    case CB_MAIL_MBOX:
        return send_mbox(m, env_from, msg, len, err);
    case CB_MAIL_MAILDIR:
        return send_maildir(m, key, msg, len, err);
    case CB_MAIL_SENDMAIL:
        return send_sendmail(m, msg, len, err);
    case CB_MAIL_SMTP:
        return send_smtp(m, env_from, rcpt, msg, len, err);
    }
    return cb_err_set(err, EX_SOFTWARE, "unknown transport");
}

int cb_mailer_due(const cb_mailer *m)
{
    return m->o.kind != CB_MAIL_MAILDIR || m->nheld == m->batch;
}

int cb_mailer_flush(cb_mailer *m, cb_err *err)
{
    return m->o.kind == CB_MAIL_MAILDIR ? maildir_flush(m, 1, err) : 0;
}

int cb_mailer_close(cb_mailer *m, cb_err *err)
{
    int rc = 0;
    if (m == NULL)
        return 0;
    if (m->held != NULL)
        maildir_flush(m, 0, NULL);
    free(m->held);
    if (m->tmpfd >= 0)
        close(m->tmpfd);
    if (m->newfd >= 0)
        close(m->newfd);
    cb_strmap_clear(&m->read);
    if (m->o.kind == CB_MAIL_MBOX && m->o.mbox != NULL && fflush(m->o.mbox) != 0 && err != NULL)
        rc = cb_err_sys(err, EX_IOERR, "cannot write the mbox");
    if (m->curl != NULL)
        curl_easy_cleanup(m->curl);
    if (m->argv != NULL) {
        for (char **a = m->argv; *a; a++)
            free(*a);
        free(m->argv);
    }
    wipe_free(m->user);
    wipe_free(m->pass);
    free(m->maildir);
    free(m);
    return rc;
}
