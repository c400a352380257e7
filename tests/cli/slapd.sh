# A throw-away OpenLDAP server for the directory tests (sourced after
# lib.sh): its own cn=config and mdb database under $T, bound to 127.0.0.1
# on a port found free at run time, stopped when the test ends.
#   slapd_init DIR SUFFIX      config and an empty database; the suffix and
#                              ou=certificates entries loaded
#                              (rootdn cn=admin,SUFFIX, password in DIR/admin.pass)
#   slapd_load DIR LDIF        slapadd an LDIF into the database (server stopped)
#   slapd_start DIR            start it; SLAPD_URL is ldap://127.0.0.1:PORT

slapd_init() {
    _sd=$1 _suffix=$2
    mkdir -p "$_sd/slapd.d" "$_sd/db"
    printf 'secret\n' >"$_sd/admin.pass"
    cat >"$_sd/config.ldif" <<LDIF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $_sd/slapd.pid

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcRootDN: cn=admin,cn=config

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: $_suffix
olcDbDirectory: $_sd/db
olcRootDN: cn=admin,$_suffix
olcRootPW: secret
olcDbMaxSize: 33554432
olcDbIndex: mail eq
LDIF
    _dc=$(printf '%s' "$_suffix" | sed 's/^dc=\([^,]*\).*/\1/')
    cat >"$_sd/base.ldif" <<LDIF
dn: $_suffix
objectClass: dcObject
objectClass: organization
dc: $_dc
o: $_dc

dn: ou=certificates,$_suffix
objectClass: organizationalUnit
ou: certificates
LDIF
    slapadd -n0 -F "$_sd/slapd.d" -l "$_sd/config.ldif" >"$_sd/slapadd.log" 2>&1 &&
        slapadd -n1 -F "$_sd/slapd.d" -l "$_sd/base.ldif" >>"$_sd/slapadd.log" 2>&1
}

slapd_load() {
    slapadd -n1 -F "$1/slapd.d" -l "$2"
}

slapd_start() {
    _port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    SLAPD_URL="ldap://127.0.0.1:$_port"
    slapd -F "$1/slapd.d" -h "$SLAPD_URL/" -d 0 >"$1/slapd.log" 2>&1 &
    SLAPD_PID=$!
    trap 'kill "$SLAPD_PID" 2>/dev/null; wait "$SLAPD_PID" 2>/dev/null; rm -rf "$T"' EXIT INT TERM
    _i=0
    while [ $_i -lt 50 ]; do
        ldapsearch -x -H "$SLAPD_URL" -b "" -s base >/dev/null 2>&1 && return 0
        sleep 0.1
        _i=$((_i + 1))
    done
    return 1
}
