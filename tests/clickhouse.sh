# Sourced, after tests/lib.sh, by tests that need a ClickHouse server
# (tests/e2e/ship_*.sh, tests/bench/bench_ship.sh): Debian's clickhouse-server run in the
# foreground on free loopback ports, with its data, logs and config in a
# directory of the test's own. Nothing outlives the test: ch_stop in a trap.
#   ch_start DIR       start (or restart, same ports and data): CH_PID, CH_URL
#   ch_stop            SIGTERM, SIGKILL after 10 s
#   ch_q SQL           the answer of a query (TabSeparated), or exit status 1
CH_BIN=$(command -v clickhouse-server 2>/dev/null || true)
[ -z "$CH_BIN" ] && [ -x /usr/bin/clickhouse ] && CH_BIN="/usr/bin/clickhouse server"

# A port nothing listens on now.
ch_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

ch_start() {
	CH_DIR=$1
	mkdir -p "$CH_DIR/data" "$CH_DIR/tmp" "$CH_DIR/user_files" "$CH_DIR/log" "$CH_DIR/schemas"
	if [ ! -f "$CH_DIR/config.xml" ]; then
		CH_HTTP_PORT=$(ch_free_port)
		CH_TCP_PORT=$(ch_free_port)
		cat >"$CH_DIR/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
    <logger><level>warning</level><log>$CH_DIR/log/server.log</log><errorlog>$CH_DIR/log/error.log</errorlog></logger>
    <http_port>$CH_HTTP_PORT</http_port>
    <tcp_port>$CH_TCP_PORT</tcp_port>
    <listen_host>127.0.0.1</listen_host>
    <path>$CH_DIR/data/</path>
    <tmp_path>$CH_DIR/tmp/</tmp_path>
    <user_files_path>$CH_DIR/user_files/</user_files_path>
    <format_schema_path>$CH_DIR/schemas/</format_schema_path>
    <users_config>$CH_DIR/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mark_cache_size>16777216</mark_cache_size>
    <uncompressed_cache_size>16777216</uncompressed_cache_size>
    <max_concurrent_queries>20</max_concurrent_queries>
</yandex>
XML
		cat >"$CH_DIR/users.xml" <<'XML'
<?xml version="1.0"?>
<yandex>
    <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
    <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
	fi
	CH_HTTP_PORT=$(sed -n 's:.*<http_port>\([0-9]*\)</http_port>.*:\1:p' "$CH_DIR/config.xml")
	CH_URL="http://127.0.0.1:$CH_HTTP_PORT"
	# shellcheck disable=SC2086
	$CH_BIN --config-file="$CH_DIR/config.xml" >"$CH_DIR/log/stdout" 2>&1 &
	CH_PID=$!
	_i=0
	until [ "$(curl -s --max-time 2 "$CH_URL/" 2>/dev/null)" = "Ok." ]; do
		_i=$((_i + 1))
		if [ $_i -gt 600 ] || ! kill -0 "$CH_PID" 2>/dev/null; then
			echo "clickhouse did not start: $(tail -c 600 "$CH_DIR/log/error.log" "$CH_DIR/log/stdout" 2>/dev/null)" >&2
			return 1
		fi
		sleep 0.1
	done
}

ch_stop() {
	[ -n "${CH_PID:-}" ] || return 0
	stop_pid "$CH_PID" 100
	CH_PID=
}

ch_q() {
	curl -sS --fail-with-body --max-time 60 --data-binary "$1" "$CH_URL/"
}
