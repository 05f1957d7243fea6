/* The checksum at the end of every value: added by db_put, verified by
 * db_get and db_cursor_get. Returns: an LMDB code, or DB_DAMAGED with the
 * damage reported. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "db_int.h"
#include "err.h"
#include "hash.h"

/* Seeded with the sub-database's name: an entry found in another tree
 * (a damaged root or branch page points there) does not pass. */
static uint64_t value_sum(const store_db *db, MDB_dbi dbi, const void *k, size_t kn, const void *v, size_t vn)
{
	size_t i = db_subdb_index(db, dbi);
	const char *name = i < db_count() ? db_subdb_name(i) : NULL;
	uint64_t seed = name ? lg_hash_data(name, strlen(name), LG_HASH_SEED) : LG_HASH_SEED;
	return lg_hash_data(v, vn, lg_hash_data(k, kn, seed));
}

static void sum_write(unsigned char *out, uint64_t h)
{
	for (int i = 0; i < DB_SUM_LEN; i++)
		out[i] = (unsigned char)(h >> (8 * i));
}

static uint64_t sum_read(const unsigned char *p)
{
	uint64_t h = 0;
	for (int i = DB_SUM_LEN - 1; i >= 0; i--)
		h = h << 8 | p[i];
	return h;
}

static store_db *txn_db(MDB_txn *txn)
{
	return mdb_env_get_userctx(mdb_txn_env(txn));
}

/* Whether [p, p + n) is inside data.mdb, when it is inside the map at all
 * (a write transaction's own pages are in the heap). LMDB takes a value's
 * size from its node: a flipped bit there points past the file. */
static int in_file(store_db *db, const void *p, size_t n)
{
	const char *m = db ? db->map : NULL, *q = p;
	struct stat st;
	mdb_filehandle_t fd;
	if (!m || q < m || q >= m + db->map_len)
		return 1;
	size_t off = (size_t)(q - m);
	if (off + n >= off && off + n <= db->file_size)
		return 1;
	if (mdb_env_get_fd(db->env, &fd) == 0 && fstat(fd, &st) == 0)
		db->file_size = (size_t)st.st_size;
	return off + n >= off && off + n <= db->file_size;
}

int db_verify_why(store_db *db, MDB_dbi dbi, const MDB_val *k, MDB_val *v, const char **why)
{
	if (!in_file(db, k->mv_data, k->mv_size) || !in_file(db, v->mv_data, v->mv_size)) {
		*why = "lies outside the file";
		return DB_DAMAGED;
	}
	if (v->mv_size >= DB_SUM_LEN) {
		size_t n = v->mv_size - DB_SUM_LEN;
		if (sum_read((const unsigned char *)v->mv_data + n) == value_sum(db, dbi, k->mv_data, k->mv_size, v->mv_data, n)) {
			v->mv_size = n;
			return 0;
		}
	}
	*why = "checksum mismatch";
	return db && db->sealed ? DB_DAMAGED : 0;
}

int db_verify(store_db *db, MDB_dbi dbi, const MDB_val *k, MDB_val *v)
{
	const char *why;
	return db_verify_why(db, dbi, k, v, &why);
}

char *db_describe(const store_db *db, MDB_dbi dbi, const MDB_val *k, char *out, size_t n)
{
	size_t i = db_subdb_index(db, dbi), skip = db_subdb_time_key(i) ? STORE_TIME_KEY : 0;
	const unsigned char *p = k->mv_data;
	size_t len = k->mv_size > skip ? k->mv_size - skip : 0, o;
	int w = snprintf(out, n, "%s '", db_subdb_label(i));
	o = w < 0 ? 0 : (size_t)w;
	/* The key as text: a damaged one may hold anything. */
	for (size_t j = 0; j < len && o + 6 < n; j++)
		out[o++] = p[skip + j] >= 0x20 && p[skip + j] < 0x7f ? (char)p[skip + j] : '?';
	snprintf(out + o, n - o, "%s'", o + 6 >= n ? "..." : "");
	return out;
}

void db_report_damage(const store_db *db, MDB_dbi dbi, const MDB_val *k, const char *why)
{
	char what[300];
	lg_err("db: %s: %s (%s)", db_describe(db, dbi, k, what, sizeof what), why, DB_DAMAGE_ADVICE);
}

static int checked(MDB_txn *txn, MDB_dbi dbi, const MDB_val *k, MDB_val *v)
{
	store_db *db = txn_db(txn);
	const char *why;
	int rc = db_verify_why(db, dbi, k, v, &why);
	if (rc)
		db_report_damage(db, dbi, k, why);
	return rc;
}

int db_get(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t klen, MDB_val *val)
{
	MDB_val k = { klen, (void *)(uintptr_t)key };
	int rc = mdb_get(txn, dbi, &k, val);
	return rc ? rc : checked(txn, dbi, &k, val);
}

int db_cursor_get(MDB_cursor *cur, MDB_val *key, MDB_val *val, MDB_cursor_op op)
{
	int rc = mdb_cursor_get(cur, key, val, op);
	return rc ? rc : checked(mdb_cursor_txn(cur), mdb_cursor_dbi(cur), key, val);
}

int db_put_parts(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t klen, const db_part *parts,
		 size_t nparts, unsigned flags)
{
	size_t n = 0;
	for (size_t i = 0; i < nparts; i++)
		n += parts[i].n;
	MDB_val k = { klen, (void *)(uintptr_t)key }, d = { n + DB_SUM_LEN, NULL };
	int rc = mdb_put(txn, dbi, &k, &d, flags | MDB_RESERVE);
	if (rc)
		return rc;
	unsigned char *out = d.mv_data;
	for (size_t i = 0; i < nparts; i++) {
		if (parts[i].n)
			memcpy(out, parts[i].p, parts[i].n);
		out += parts[i].n;
	}
	sum_write(out, value_sum(txn_db(txn), dbi, key, klen, d.mv_data, n));
	return 0;
}

int db_put(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t klen, const void *v, size_t vlen)
{
	db_part p = { v, vlen };
	return db_put_parts(txn, dbi, key, klen, &p, 1, 0);
}

int db_del(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t klen)
{
	MDB_val k = { klen, (void *)(uintptr_t)key };
	int rc = mdb_del(txn, dbi, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}
