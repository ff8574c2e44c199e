"""What differs per warehouse: the dbt adapter profile, SQL dialect, PII expressions, partition/cluster configs, types."""

from __future__ import annotations

from dataclasses import dataclass

from streamc.ir import ColumnType, Connection, Environment, Partition

from .jinja_text import Template, string_literal

WAREHOUSES = ("snowflake", "bigquery", "postgres", "duckdb")


def env_name(*parts: str) -> str:
    """`dwh`, `schema` -> `DWH_SCHEMA` (the env var a deployment sets)."""
    return "_".join(p.upper().replace("-", "_").replace(".", "_") for p in parts if p)


def env_ref(var: str, default: str | None = None, number: bool = False) -> Template:
    """A dbt `env_var()` lookup as a YAML value (never the value itself); the default is spec text, quoted."""
    call = f"env_var('{var}')" if default is None else f"env_var('{var}', {string_literal(default)})"
    return Template("{{ " + call + (" | as_number" if number else "") + " }}")


@dataclass(frozen=True)
class ProfileField:
    key: str  # the dbt profile key
    var: str  # the env var that holds it
    setting: str | None = None  # the spec connection setting / env override that gives its default
    default: str | None = None  # a tool default that is the same everywhere (e.g. the Postgres port)
    number: bool = False


@dataclass(frozen=True)
class Warehouse:
    """The warehouse a dbt project runs on: its adapter, sqlglot dialect and SQL idioms."""

    kind: str
    connection: Connection
    local: bool = False  # a DuckDB stand-in for the spec's warehouse (target_warehouse=duckdb)

    @property
    def dialect(self) -> str:
        return self.kind

    # ------------------------------------------------------------------ profiles

    def profile_fields(self) -> list[ProfileField]:
        c = self.connection.name
        secret = self.connection.setting("credentials") or self.connection.setting("auth_token")
        cred = secret.text if secret is not None and secret.kind == "secret" else c
        if self.local:
            return [
                ProfileField("path", env_name(c, "duckdb_path"), default=f"{c}.duckdb"),
                ProfileField("schema", env_name(c, "schema"), setting="schema", default="main"),
            ]
        if self.kind == "postgres":
            return [
                ProfileField("host", env_name(c, "host")),
                ProfileField("port", env_name(c, "port"), default="5432", number=True),
                ProfileField("user", env_name(cred, "user")),
                ProfileField("password", env_name(cred, "password")),
                ProfileField("dbname", env_name(c, "database"), setting="database"),
                ProfileField("schema", env_name(c, "schema"), setting="schema"),
            ]
        if self.kind == "snowflake":
            return [
                ProfileField("account", env_name(c, "account"), setting="account"),
                ProfileField("user", env_name(cred, "user")),
                ProfileField("private_key_path", env_name(cred, "private_key_path")),
                ProfileField("private_key_passphrase", env_name(cred, "private_key_passphrase")),
                ProfileField("role", env_name(c, "role"), setting="role"),
                ProfileField("warehouse", env_name(c, "warehouse"), setting="warehouse"),
                ProfileField("database", env_name(c, "database"), setting="database"),
                ProfileField("schema", env_name(c, "schema"), setting="schema"),
            ]
        if self.kind == "bigquery":
            return [
                ProfileField("method", env_name(c, "auth_method"), default="service-account"),
                ProfileField("keyfile", env_name(cred, "keyfile")),
                ProfileField("project", env_name(c, "project"), setting="project"),
                ProfileField("dataset", env_name(c, "dataset"), setting="dataset"),
                ProfileField("location", env_name(c, "location"), setting="location"),
            ]
        # duckdb
        return [
            ProfileField("path", env_name(c, "path"), setting="path", default=f"{self.database()}.duckdb"),
            ProfileField("schema", env_name(c, "schema"), setting="schema", default="main"),
        ]

    def database(self) -> str:
        value = self.connection.setting("database")
        return value.text if value is not None and value.kind != "secret" else self.connection.name

    def profile_output(self, env: Environment | None) -> dict[str, object]:
        """One `outputs:` entry: every value is an env_var() lookup; the spec's (per-env) value is only the default."""
        out: dict[str, object] = {"type": "duckdb" if self.local else self.kind}
        for f in self.profile_fields():
            default = f.default
            if f.setting:
                value = self.connection.setting(f.setting)
                if value is not None and value.kind != "secret":
                    default = value.text
                for o in env.overrides if env else ():
                    if o.target == self.connection.name and o.key == f.setting and o.value.kind != "secret":
                        default = o.value.text
            out[f.key] = env_ref(f.var, default, f.number)
        out["threads"] = env_ref("DBT_THREADS", "4", number=True)
        return out

    # ------------------------------------------------------------------ SQL idioms

    def hash_sql(self, column: str) -> str:
        """sha256 as lower-case hex text, identical across warehouses (so hashed keys still join)."""
        return {
            "duckdb": f"SHA256({column})",
            "snowflake": f"SHA2({column}, 256)",
            "bigquery": f"TO_HEX(SHA256({column}))",
            "postgres": f"ENCODE(SHA256(CONVERT_TO({column}, 'UTF8')), 'hex')",
        }[self.kind]

    def mask_sql(self, column: str) -> str:
        """Keeps the first character, hides the rest."""
        concat = {"bigquery": f"CONCAT(LEFT({column}, 1), '****')"}.get(self.kind, f"LEFT({column}, 1) || '****'")
        return f"CASE WHEN {column} IS NULL THEN NULL ELSE {concat} END"

    def encrypt_sql(self, column: str) -> str | None:
        """A call of the shipped `streamc_encrypt` macro; None where the warehouse has no symmetric encryption."""
        if self.kind == "duckdb":
            return None
        return "{{ streamc_encrypt('" + column + "') }}"

    def encrypt_macro_body(self) -> str:
        key = "env_var('STREAMC_PII_ENCRYPTION_KEY')"
        return {
            "postgres": "ENCODE(PGP_SYM_ENCRYPT(CAST({{ column_name }} AS TEXT), '{{ " + key + " }}'), 'base64')",
            "snowflake": "TO_VARCHAR(ENCRYPT({{ column_name }}, '{{ " + key + " }}'), 'BASE64')",
            "bigquery": "TO_BASE64(AEAD.ENCRYPT(KEYS.KEYSET_FROM_JSON('{{ " + key + " }}'), "
            "CAST({{ column_name }} AS STRING), ''))",
            "duckdb": "NULL",
        }[self.kind]

    def regex_predicate(self) -> str:
        """Jinja SQL that is true when `column_name` matches `pattern` (anywhere; anchors are the pattern's)."""
        if self.kind in ("duckdb", "postgres"):
            literal = "'{{ pattern | replace(\"'\", \"''\") }}'"
        else:  # backslash is an escape character in Snowflake and BigQuery string literals
            literal = "'{{ pattern | replace('\\\\', '\\\\\\\\') | replace(\"'\", \"\\\\'\") }}'"
        return {
            "duckdb": f"REGEXP_MATCHES({{{{ column_name }}}}, {literal})",
            "postgres": f"{{{{ column_name }}}} ~ {literal}",
            "snowflake": f"REGEXP_INSTR({{{{ column_name }}}}, {literal}) > 0",
            "bigquery": f"REGEXP_CONTAINS({{{{ column_name }}}}, {literal})",
        }[self.kind]

    # ------------------------------------------------------------------ physical layout

    def partition_config(
        self, partition: Partition | None, column_type: ColumnType | None, cluster: tuple[str, ...]
    ) -> dict[str, object]:
        """Model config keys for partitioning and clustering, in this adapter's own syntax."""
        cfg: dict[str, object] = {}
        if self.kind == "bigquery":
            if partition is not None:
                data_type = "date" if column_type is not None and column_type.name == "date" else "timestamp"
                cfg["partition_by"] = {
                    "field": partition.column,
                    "data_type": data_type,
                    "granularity": partition.granularity or "day",
                }
            if cluster:
                cfg["cluster_by"] = list(cluster)
        elif self.kind == "snowflake":
            keys = []
            if partition is not None:
                grain = partition.granularity or "day"
                keys.append(
                    f"TO_DATE({partition.column})" if grain == "day" else f"DATE_TRUNC('{grain}', {partition.column})"
                )
            keys += list(cluster)
            if keys:
                cfg["cluster_by"] = keys
        elif self.kind == "postgres":
            indexes: list[dict[str, object]] = []
            if partition is not None:  # time-ordered data: a small BRIN index prunes by range
                indexes.append({"columns": [partition.column], "type": "brin"})
            if cluster:
                indexes.append({"columns": list(cluster), "type": "btree"})
            if indexes:
                cfg["indexes"] = indexes
        return cfg

    def partition_overwrite_strategy(self) -> str:
        """How this adapter replaces whole partitions: BigQuery natively, elsewhere delete+insert on the partition key."""
        return "insert_overwrite" if self.kind == "bigquery" else "delete+insert"


DUCKDB_TYPES = {
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "smallint": "SMALLINT",
    "double": "DOUBLE",
    "real": "REAL",
    "text": "VARCHAR",
    "varchar": "VARCHAR",
    "char": "VARCHAR",
    "uuid": "UUID",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "timestamptz": "TIMESTAMPTZ",
    "time": "TIME",
    "json": "JSON",
    "bytes": "BLOB",
    "enum": "VARCHAR",
}


def duckdb_type(t: ColumnType) -> str:
    if t.name == "numeric":
        params = {0: (38, 9), 1: (t.params[0], 0) if t.params else (38, 9)}.get(len(t.params), t.params[:2])
        return f"DECIMAL({params[0]}, {params[1]})"
    return DUCKDB_TYPES.get(t.name, "VARCHAR")
