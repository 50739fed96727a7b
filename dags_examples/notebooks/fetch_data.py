# Databricks notebook source
# MAGIC %md
# MAGIC # fetch_data
# MAGIC Pull one window of orders from the external orders API, page by page, and land every page
# MAGIC unchanged as JSON in DBFS (`<raw_root>/<start>_<end>/page-0001.json`, ...).
# MAGIC
# MAGIC * The API key comes from a Databricks secret scope, never from a parameter.
# MAGIC * The client is polite: it backs off on 429 and 5xx, honouring `Retry-After`.
# MAGIC * Raw pages are kept as the API sent them, so the transform can be re-run without re-fetching.

# COMMAND ----------

import json
import os
import random
import time

import requests

# Job parameters arrive as widgets. Declaring them with defaults makes the notebook runnable
# by hand in the Databricks UI as well as from a job.
dbutils.widgets.text("start_date", "2024-01-01")
dbutils.widgets.text("end_date", "2024-01-07")
dbutils.widgets.text("source_url", "")
dbutils.widgets.text("raw_root", "dbfs:/raw/orders")
dbutils.widgets.text("secret_scope", "dbx_examples")
dbutils.widgets.text("secret_key", "sample_source_api_key")
dbutils.widgets.text("page_size", "100")

start_date = dbutils.widgets.get("start_date")
end_date = dbutils.widgets.get("end_date")
# The orders API base URL: the orchestrator passes it from its `orders_api_default` connection.
source_url = dbutils.widgets.get("source_url").rstrip("/")
if not source_url.startswith(("https://", "http://")):
    raise ValueError(f"source_url {source_url!r} must be the orders API's http(s) base URL")
raw_root = dbutils.widgets.get("raw_root").rstrip("/")
page_size = int(dbutils.widgets.get("page_size"))
api_key = dbutils.secrets.get(dbutils.widgets.get("secret_scope"), dbutils.widgets.get("secret_key"))

# DBFS is mounted as a local folder (/dbfs on a cluster); plain Python file IO goes through it.
FUSE_ROOT = os.environ.get("DATABRICKS_DBFS_FUSE_ROOT", "/dbfs").rstrip("/")


def to_fuse(dbfs_path: str) -> str:
    """dbfs:/raw/x -> /dbfs/raw/x (or the emulator's local DBFS folder)."""
    return FUSE_ROOT + "/" + dbfs_path.removeprefix("dbfs:").lstrip("/")


raw_dir = f"{raw_root}/{start_date}_{end_date}"

# COMMAND ----------

RETRYABLE = {429, 500, 502, 503, 504}
MAX_ATTEMPTS = 6
MAX_WAIT_SECONDS = 30.0
session = requests.Session()
session.headers.update({"X-API-Key": api_key, "Accept": "application/json"})
retries = 0


def get_page(page: int) -> dict:
    """One page, retried with jittered exponential backoff; Retry-After wins when the server sends it."""
    global retries
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            response = session.get(
                f"{source_url}/orders",
                params={"start": start_date, "end": end_date, "page": page, "page_size": page_size},
                timeout=30,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            if attempt == MAX_ATTEMPTS:
                raise
            reason, retry_after = type(exc).__name__, None
        else:
            if response.status_code not in RETRYABLE:
                # 4xx other than 429 will not get better by retrying: fail loudly with the body.
                if not response.ok:
                    raise RuntimeError(f"orders API answered {response.status_code}: {response.text[:500]}")
                return response.json()
            if attempt == MAX_ATTEMPTS:
                response.raise_for_status()
            reason, retry_after = str(response.status_code), response.headers.get("Retry-After")
        backoff = min(MAX_WAIT_SECONDS, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
        try:
            wait = min(MAX_WAIT_SECONDS, float(retry_after)) if retry_after else backoff
        except ValueError:  # an HTTP date instead of seconds: keep our own backoff
            wait = backoff
        retries += 1
        print(f"page {page}: {reason}, retrying in {wait:.1f}s (attempt {attempt}/{MAX_ATTEMPTS})")
        time.sleep(wait)
    raise AssertionError("unreachable")


# COMMAND ----------

# A re-run of the same window replaces its pages instead of mixing old and new ones.
dbutils.fs.rm(raw_dir, True)
dbutils.fs.mkdirs(raw_dir)
os.makedirs(to_fuse(raw_dir), exist_ok=True)

page, pages, records = 1, 0, 0
while page:
    body = get_page(page)
    with open(to_fuse(f"{raw_dir}/page-{page:04d}.json"), "w", encoding="utf-8") as f:
        json.dump(body, f)
    pages += 1
    records += len(body["data"])
    print(f"page {page}/{body['total_pages']}: {len(body['data'])} records")
    page = body.get("next_page")

if records != body["total"]:
    raise RuntimeError(f"the API announced {body['total']} records but sent {records}")

# COMMAND ----------

landed = [entry.path for entry in dbutils.fs.ls(raw_dir)]
print(f"landed {pages} pages, {records} records in {raw_dir}: {landed}")
dbutils.notebook.exit(
    json.dumps(
        {"raw_dir": raw_dir, "pages": pages, "records": records, "retries": retries, "source": source_url}
    )
)
