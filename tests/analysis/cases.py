"""Snippets for each rule: problems it must report and correct look-alikes it must not.

Each case is one module; ``expect`` lists the topics that must be reported in it and ``forbid`` the
topics that must not be. Written independently of the fixture app, in several styles (FastAPI, Flask,
Django, aiohttp, Celery, RQ, pandas), to check that the rules generalise.
"""

from __future__ import annotations

CASES: dict[str, tuple[str, set[str], set[str]]] = {
    # ---- blocking-call-in-async ----
    "blocking_requests.py": ("""
        import requests
        async def hook(url):
            return requests.get(url, timeout=5).json()
        """, {"blocking-call-in-async"}, {"missing-timeout"}),
    "blocking_sync_session.py": ("""
        from fastapi import Depends
        from sqlalchemy.orm import Session
        async def list_users(db: Session = Depends(get_db)):
            return db.execute(select(User)).scalars().all()
        """, {"blocking-call-in-async"}, set()),
    "blocking_read_text.py": ("""
        from pathlib import Path
        async def load_prompt(name):
            return Path("prompts", name).read_text()
        """, {"blocking-call-in-async"}, set()),
    "ok_async_session.py": ("""
        from sqlalchemy.ext.asyncio import AsyncSession
        async def list_users(session: AsyncSession):
            result = await session.execute(select(User))
            return result.scalars().all()
        async def read(path):
            return await asyncio.to_thread(Path(path).read_text)
        def sync_view(db):
            return db.query(User).all()
        """, set(), {"blocking-call-in-async"}),
    "ok_aiohttp.py": ("""
        import aiohttp
        async def fetch(url):
            async with aiohttp.ClientSession() as session:
                async with session.get(url) as resp:
                    return await resp.json()
        """, set(), {"blocking-call-in-async", "resource-leak", "missing-timeout"}),
    # ---- missing-timeout ----
    "timeout_missing.py": ("""
        import requests
        def notify(url, payload):
            requests.post(url, json=payload)
        """, {"missing-timeout"}, set()),
    "timeout_ok.py": ("""
        import requests, httpx
        def notify(url, payload):
            requests.post(url, json=payload, timeout=(3.05, 27))
            httpx.get(url)
            with httpx.Client(timeout=10) as c:
                c.get(url)
        """, set(), {"missing-timeout"}),
    # ---- swallowed-exception ----
    "swallow_pass.py": ("""
        def load(path):
            try:
                return open_config(path)
            except Exception:
                pass
        """, {"swallowed-exception"}, set()),
    "swallow_ok.py": ("""
        import logging
        logger = logging.getLogger(__name__)
        def load(path):
            try:
                return open_config(path)
            except Exception:
                logger.exception("cannot load %s", path)
                raise
        def parse(v):
            try:
                return int(v)
            except ValueError:
                return None
        def fetch(url):
            try:
                return get(url)
            except Exception as exc:
                logger.warning("fetch failed: %s", exc)
                return None
        def wrap():
            try:
                work()
            except Exception as exc:
                raise RuntimeError("work failed") from exc
        """, set(), {"swallowed-exception"}),
    # ---- resource-leak ----
    "leak_session.py": ("""
        from app.db import SessionLocal
        def purge():
            session = SessionLocal()
            session.execute(text("DELETE FROM tokens WHERE expired"))
            session.commit()
        """, {"resource-leak"}, set()),
    "leak_ok.py": ("""
        import httpx
        from app.db import SessionLocal
        client = httpx.Client(timeout=5)
        def purge():
            with SessionLocal() as session:
                session.execute(text("DELETE FROM tokens WHERE expired"))
        def get_db():
            db = SessionLocal()
            try:
                yield db
            finally:
                db.close()
        class Api:
            def __init__(self):
                self.http = httpx.Client(timeout=5)
        def make_client():
            return httpx.Client(timeout=5)
        """, set(), {"resource-leak"}),
    # ---- unbounded-memory ----
    "cache_unbounded.py": ("""
        _results = {}
        def search(query):
            if query in _results:
                return _results[query]
            value = expensive(query)
            _results[query] = value
            return value
        """, {"unbounded-memory"}, set()),
    "cache_ok.py": ("""
        from functools import lru_cache
        from collections import deque
        _recent = deque(maxlen=100)
        _seen = {}
        def remember(x):
            _recent.append(x)
        def track(key, value):
            if len(_seen) > 1000:
                _seen.clear()
            _seen[key] = value
        @lru_cache(maxsize=128)
        def parse_plan(name):
            return name.upper()
        """, set(), {"unbounded-memory"}),
    # ---- shared-state-race ----
    "race_counter.py": ("""
        from flask import Flask
        app = Flask(__name__)
        hits = {"count": 0}
        @app.route("/hit")
        def hit():
            hits["count"] += 1
            return str(hits["count"])
        """, {"shared-state-race"}, set()),
    "race_task.py": ("""
        import asyncio
        async def on_message(msg):
            asyncio.ensure_future(handle(msg))
        """, {"shared-state-race"}, set()),
    "race_ok.py": ("""
        import asyncio, threading
        _lock = threading.Lock()
        counts = {}
        def bump(key):
            with _lock:
                counts[key] = counts.get(key, 0) + 1
        async def main(items):
            results = await asyncio.gather(*(work(i) for i in items))
            async with asyncio.TaskGroup() as tg:
                for i in items:
                    tg.create_task(work(i))
            return results
        """, set(), {"shared-state-race"}),
    # ---- n-plus-one-query ----
    "n_plus_one_django.py": ("""
        from shop.models import Order, Customer
        def report():
            rows = []
            for order in Order.objects.filter(paid=True):
                customer = Customer.objects.get(id=order.customer_id)
                rows.append((order.id, customer.name))
            return rows
        """, {"n-plus-one-query"}, set()),
    "n_plus_one_ok.py": ("""
        from sqlalchemy import select
        from sqlalchemy.orm import selectinload
        def report(session):
            orders = session.scalars(select(Order).options(selectinload(Order.customer))).all()
            return [(o.id, o.customer.name) for o in orders]
        def retry(session):
            for attempt in range(3):
                session.execute(select(Order))
        """, set(), {"n-plus-one-query"}),
    # ---- row-wise-pandas ----
    "pandas_rows.py": ("""
        import pandas as pd
        def totals(df: pd.DataFrame):
            out = []
            for row in df.itertuples():
                out.append(row.price * row.qty)
            return out
        def scores(df):
            return df.apply(lambda r: r.a + r.b, axis="columns")
        """, {"row-wise-pandas"}, set()),
    "pandas_ok.py": ("""
        import pandas as pd
        def totals(df):
            df["total"] = df["price"] * df["qty"]
            names = df["name"].apply(str.title)
            parts = []
            for chunk in pd.read_csv("x.csv", chunksize=1000):
                parts.append(chunk)
            return pd.concat(parts), names
        """, set(), {"row-wise-pandas"}),
    # ---- sequential-awaits ----
    "seq_awaits.py": ("""
        async def refresh_all(users, client):
            for user in users:
                await refresh_profile(client, user.id)
        """, {"sequential-awaits"}, set()),
    "seq_ok.py": ("""
        import asyncio
        async def refresh_all(users, client, session):
            await asyncio.gather(*(refresh_profile(client, u.id) for u in users))
            for user in users:
                await session.execute(update(User).where(User.id == user.id))
            for item in queue_items:
                await websocket.send_json(item)
            for attempt in range(5):
                if await ping():
                    return True
                await asyncio.sleep(1)
        """, set(), {"sequential-awaits"}),
    # ---- sql-injection ----
    "sqli.py": ("""
        def find(cursor, name):
            cursor.execute("SELECT * FROM users WHERE name = '%s'" % name)
            cursor.execute(f"DELETE FROM sessions WHERE user = {name}")
        """, {"sql-injection"}, set()),
    "sqli_ok.py": ("""
        def find(cursor, name):
            cursor.execute("SELECT * FROM users WHERE name = %s", (name,))
            cursor.execute("SELECT * FROM users WHERE name = :n", {"n": name})
        """, set(), {"sql-injection"}),
    # ---- hardcoded-secret ----
    "secret.py": ("""
        STRIPE_SECRET_KEY = "sk_live_51HxQ2eKq8mZ0pLw3Vt9sRb"
        client = Client(api_key="a8f5f167f44f4964e6c998dee827110c")
        DB_PASSWORD = "Tr0ub4dor&3"
        """, {"hardcoded-secret"}, set()),
    "secret_ok.py": ("""
        import os
        SECRET_KEY = os.environ["SECRET_KEY"]
        PASSWORD_RESET_URL = "/auth/password-reset"
        TOKEN_TYPE = "bearer"
        API_KEY_HEADER = "X-Api-Key"
        password_field = "password"
        """, set(), {"hardcoded-secret"}),
    # ---- unsafe-deserialization ----
    "deser.py": ("""
        import pickle, yaml
        def load(blob, text):
            return pickle.loads(blob), yaml.load(text, Loader=yaml.FullLoader)
        """, {"unsafe-deserialization"}, set()),
    "deser_ok.py": ("""
        import json, yaml, ast
        def load(blob, text):
            return json.loads(blob), yaml.safe_load(text), ast.literal_eval(text)
        """, set(), {"unsafe-deserialization"}),
    # ---- weak-password-hash ----
    "weak_hash.py": ("""
        import hashlib
        def store(user, password):
            user.password_hash = hashlib.sha1(password.encode()).hexdigest()
        """, {"weak-password-hash"}, set()),
    "weak_hash_ok.py": ("""
        import hashlib
        def etag(body):
            return hashlib.md5(body).hexdigest()
        def cache_key(url):
            return hashlib.sha256(url.encode()).hexdigest()
        def store(user, password, salt):
            user.password_hash = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
        """, set(), {"weak-password-hash"}),
    # ---- insecure-random ----
    "rand.py": ("""
        import random, string
        def make_invite_code():
            return "".join(random.choice(string.ascii_uppercase) for _ in range(8))
        def new_otp():
            otp = random.randint(100000, 999999)
            return otp
        """, {"insecure-random"}, set()),
    "rand_ok.py": ("""
        import random, secrets
        def pick_server(servers):
            return random.choice(servers)
        def jitter(base):
            return base * random.uniform(0.5, 1.5)
        def new_token():
            return secrets.token_hex(16)
        """, set(), {"insecure-random"}),
    # ---- command-injection ----
    "cmd.py": ("""
        import os, subprocess
        def convert(name):
            subprocess.call("convert %s out.png" % name, shell=True)
            os.popen("ls " + name)
        """, {"command-injection"}, set()),
    "cmd_ok.py": ("""
        import subprocess
        def convert(name):
            subprocess.run(["convert", name, "out.png"], check=True)
        """, set(), {"command-injection"}),
    # ---- task-without-retry ----
    "task_noretry.py": ("""
        from celery import shared_task
        import httpx
        @shared_task(acks_late=True)
        def sync_crm(contact_id):
            httpx.post("https://crm.example.com/contacts", json={"id": contact_id}, timeout=5)
        """, {"task-without-retry"}, set()),
    "task_ok.py": ("""
        from celery import shared_task
        import httpx
        @shared_task(autoretry_for=(httpx.HTTPError,), retry_backoff=True, max_retries=5)
        def sync_crm(contact_id):
            httpx.post("https://crm.example.com/contacts", json={"id": contact_id}, timeout=5)
        @shared_task
        def recount(tenant_id):
            return Invoice.objects.filter(tenant_id=tenant_id).count()
        """, set(), {"task-without-retry"}),
    # ---- mutable-default-argument ----
    "mutable.py": ("""
        def add(item, bucket=[]):
            bucket.append(item)
            return bucket
        """, {"mutable-default-argument"}, set()),
    "mutable_ok.py": ("""
        def add(item, bucket=None, opts=(), name=""):
            bucket = bucket or []
            return bucket
        """, set(), {"mutable-default-argument"}),
    # ---- print-instead-of-logging ----
    "app_print.py": ("""
        def charge(order):
            print("charging", order.id)
        """, {"print-instead-of-logging"}, set()),
    "print_ok.py": ("""
        def main():
            return 0
        if __name__ == "__main__":
            print("done")
        """, set(), {"print-instead-of-logging"}),
    # ---- unvalidated-input ----
    "raw_body_flask.py": ("""
        from flask import Flask, request
        app = Flask(__name__)
        @app.post("/orders")
        def create_order():
            data = request.json
            return {"id": save(data["sku"], data["qty"])}
        """, {"unvalidated-input"}, set()),
    "body_ok.py": ("""
        from fastapi import FastAPI, Request
        from pydantic import BaseModel
        app = FastAPI()
        class Order(BaseModel):
            sku: str
        @app.post("/orders")
        async def create(order: Order):
            return order
        @app.post("/raw")
        async def raw(request: Request):
            payload = await request.json()
            order = Order.model_validate(payload)
            return order
        """, set(), {"unvalidated-input"}),
    # ---- sensitive-data-logging ----
    "log_secret.py": ("""
        import logging
        log = logging.getLogger(__name__)
        def login(user, password):
            log.info(f"login {user.email} pw={password}")
        def call(api_key):
            log.debug("calling with key %s", api_key)
        """, {"sensitive-data-logging"}, set()),
    "log_ok.py": ("""
        import logging
        log = logging.getLogger(__name__)
        def login(user, password, tokens_used):
            log.info("password reset requested for user %s", user.id)
            log.info("used %d tokens", tokens_used)
            log.info("password length ok: %s", len(password) > 8)
        """, set(), {"sensitive-data-logging"}),
    # ---- debug-enabled ----
    "django_settings.py": ("""
        DEBUG = True
        ALLOWED_HOSTS = ["*"]
        """, {"debug-enabled"}, set()),
    "debug_ok.py": ("""
        import os
        DEBUG = os.environ.get("DEBUG") == "1"
        def configure(app):
            app.run(debug=False)
        """, set(), {"debug-enabled"}),
}

CASES.update({
    "lazy_models.py": ("""
        from sqlalchemy.orm import Mapped, relationship
        class Order(Base):
            customer: Mapped["Customer"] = relationship(back_populates="orders")
            lines: Mapped[list["Line"]] = relationship(lazy="selectin")
        """, set(), {"n-plus-one-query"}),
    "lazy_n_plus_one.py": ("""
        def order_rows(db):
            orders = db.query(Order).filter(Order.paid.is_(True)).all()
            return [{"id": o.id, "customer": o.customer.name} for o in orders]
        """, {"n-plus-one-query"}, set()),
    "lazy_ok.py": ("""
        from sqlalchemy.orm import joinedload
        def order_rows(db):
            orders = db.query(Order).options(joinedload(Order.customer)).all()
            return [{"id": o.id, "customer": o.customer.name} for o in orders]
        def line_rows(db):
            orders = db.query(Order).all()
            return [[l.sku for l in o.lines] for o in orders]
        """, set(), {"n-plus-one-query"}),
})

CASES.update({
    "sync_redis.py": ("""
        import redis
        r = redis.Redis()
        async def rate_limited(key):
            count = redis_client.incr(key)
            return count > 100
        """, {"blocking-call-in-async"}, set()),
    "async_redis_ok.py": ("""
        import redis.asyncio as redis
        async def rate_limited(key):
            count = await redis_client.incr(key)
            return count > 100
        """, set(), {"blocking-call-in-async"}),
    "rq_jobs.py": ("""
        import requests
        from rq import Queue, Retry
        def send_receipt(order_id):
            requests.post("https://mail.example.com/send", json={"order": order_id}, timeout=5)
        def resize(path):
            return path
        def checkout(q: Queue, order_id):
            q.enqueue(send_receipt, order_id)
            q.enqueue(send_receipt, order_id, retry=Retry(max=3, interval=[10, 30, 60]))
            q.enqueue(resize, "a.png")
        """, {"task-without-retry"}, set()),
})

CASES.update({
    "class_cache.py": ("""
        import time
        class RateLimiter:
            _hits: dict = {}
            def allow(self, ip):
                self._hits.setdefault(ip, []).append(time.time())
                return len(self._hits[ip]) < 100
        """, {"unbounded-memory"}, set()),
    "class_cache_ok.py": ("""
        class Registry:
            handlers = {}
            def __init__(self):
                self.items = {}
            def add(self, key, value):
                self.items[key] = value
        class Memo:
            _cache = {}
            def get(self, key):
                if len(self._cache) > 500:
                    self._cache.clear()
                self._cache[key] = compute(key)
                return self._cache[key]
        """, set(), {"unbounded-memory"}),
})

CASES.update({
    "url_password.py": ("""
        from sqlalchemy import create_engine
        engine = create_engine("postgresql://billing:Wint3r-Is-Coming@db.internal:5432/billing")
        """, {"hardcoded-secret"}, set()),
    "url_ok.py": ("""
        import os
        from sqlalchemy import create_engine
        engine = create_engine(os.environ["DATABASE_URL"])
        LOCAL = "postgresql://postgres:postgres@localhost/dev"
        TEMPLATE = "postgresql://{user}:{password}@{host}/{db}"
        """, set(), {"hardcoded-secret"}),
    "orm_mass_assign.py": ("""
        from fastapi import Request
        from sqlalchemy.orm import Mapped, relationship
        class Account(Base):
            owner: Mapped["User"] = relationship()
        async def create_account(request: Request, db):
            data = await request.json()
            account = Account(**data)
            db.add(account)
        """, {"unvalidated-input"}, set()),
    "schema_ok.py": ("""
        from fastapi import Request
        from pydantic import BaseModel
        class AccountBase(BaseModel):
            name: str
        class NewAccount(AccountBase):
            plan: str
        async def create_account(request: Request):
            data = await request.json()
            return NewAccount(**data)
        """, set(), {"unvalidated-input"}),
})

CASES.update({
    "main.py": ("""
        from fastapi import FastAPI
        app = FastAPI()
        @app.on_event("startup")
        async def startup():
            print("starting")
        """, {"print-instead-of-logging"}, set()),
    "cli.py": ("""
        import argparse
        def run(argv=None):
            args = argparse.ArgumentParser().parse_args(argv)
            print("done", args)
        """, set(), {"print-instead-of-logging"}),
    "config_memo_ok.py": ("""
        _clients = {}
        def get_client(settings):
            key = (settings.url, settings.device)
            if key not in _clients:
                _clients[key] = make(settings)
            return _clients[key]
        """, set(), {"unbounded-memory"}),
})

CASES.update({
    "shell_const_ok.py": ("""
        import os, subprocess
        BACKUP_CMD = "pg_dump --format=custom app > /backups/latest.dump"
        def backup():
            subprocess.run(BACKUP_CMD, shell=True, check=True)
            os.system(BACKUP_CMD)
        """, set(), {"command-injection"}),
    "shell_var.py": ("""
        import subprocess
        def archive(name):
            cmd = f"tar czf /tmp/{name}.tgz /data/{name}"
            subprocess.run(cmd, shell=True, check=True)
        """, {"command-injection"}, set()),
    "adapter_ok.py": ("""
        import requests
        from requests.adapters import HTTPAdapter
        class TimeoutAdapter(HTTPAdapter):
            def send(self, request, **kwargs):
                kwargs.setdefault("timeout", 5)
                return super().send(request, **kwargs)
        session = requests.Session()
        session.mount("https://", TimeoutAdapter())
        def fetch(url):
            return session.get(url)
        """, set(), {"missing-timeout"}),
})

CASES.update({
    "async_requests_session.py": ("""
        import requests
        class Gateway:
            def __init__(self):
                self.http = requests.Session()
            async def charge(self, payload):
                return self.http.post("https://pay.example.com/charge", json=payload, timeout=10).json()
        """, {"blocking-call-in-async"}, {"missing-timeout"}),
})

CASES.update({
    "bg_tasks.py": ("""
        import httpx
        from fastapi import BackgroundTasks, FastAPI
        app = FastAPI()
        def send_welcome(email):
            httpx.post("https://mail.example.com/send", json={"to": email}, timeout=5)
        @app.post("/signup")
        def signup(email: str, background_tasks: BackgroundTasks):
            background_tasks.add_task(send_welcome, email)
            return {"ok": True}
        """, {"task-without-retry"}, set()),
    "bg_tasks_ok.py": ("""
        import dramatiq, httpx
        from tenacity import retry, stop_after_attempt, wait_exponential
        from fastapi import BackgroundTasks
        @retry(stop=stop_after_attempt(5), wait=wait_exponential())
        def send_welcome(email):
            httpx.post("https://mail.example.com/send", json={"to": email}, timeout=5)
        def signup(email, background_tasks: BackgroundTasks):
            background_tasks.add_task(send_welcome, email)
        def audit(event):
            return event
        def log_it(background_tasks: BackgroundTasks):
            background_tasks.add_task(audit, "x")
        @dramatiq.actor(queue_name="mail")
        def deliver(email):
            httpx.post("https://mail.example.com/send", json={"to": email}, timeout=5)
        """, set(), {"task-without-retry"}),
})


# One snippet for each rule id the topic cases above leave out (a rule that shares its topic with another, or a
# ruff code our own rule usually claims first), so that the golden files pin every rule: name -> (source, the
# rule ids it must produce). Reviewed as a repo of its own.
RULE_CASES: dict[str, tuple[str, set[str]]] = {
    "blocking_io.py": ("""
        import pandas as pd
        import boto3
        s3 = boto3.client("s3")
        async def report(path):
            frame = pd.read_csv(path)
            s3.upload_file(path, "bucket", "key")
            return frame
        """, {"blocking-io-in-async"}),
    "index_loop.py": ("""
        import pandas as pd
        def total(df: pd.DataFrame) -> float:
            out = 0.0
            for i in range(len(df)):
                out += df.iloc[i]["amount"]
            return out
        """, {"index-loop"}),
    "shell_subprocess.py": ("""
        import asyncio
        async def convert(name):
            proc = await asyncio.create_subprocess_shell(f"convert {name} out.png")
            await proc.wait()
        """, {"shell-subprocess"}),
    "unclosed_connection.py": ("""
        from sqlalchemy import create_engine, text
        engine = create_engine("sqlite://")
        def count():
            conn = engine.connect()
            return conn.execute(text("select 1")).scalar()
        """, {"unclosed-connection"}),
    "async_subprocess.py": ("""
        import subprocess, os, httpx
        async def build(tag):
            subprocess.run(["docker", "build", "-t", tag, "."])
            p = subprocess.Popen(["make"])
            p.wait()
            os.waitpid(p.pid, 0)
            with httpx.Client() as c:
                c.get("https://example.com", timeout=5)
        """, {"ASYNC212", "ASYNC220", "ASYNC221", "ASYNC222"}),
    "exec_marshal.py": ("""
        import marshal
        def run(request):
            code = request.body
            exec(code)
            return marshal.loads(request.body)
        """, {"S102", "S302"}),
    "passwords.py": ("""
        import hashlib
        DB_PASSWORD = "Xk8#pQ2zLmN4"
        def connect(user, password="Xk8#pQ2zLmN4"):
            return login(user, password="Xk8#pQ2zLmN4")
        def store(password):
            return hashlib.md5(password.encode()).hexdigest()
        """, {"fast-password-hash", "secret-literal"}),
    "flask_debug.py": ("""
        from flask import Flask
        app = Flask(__name__)
        app.run(debug=True)
        """, {"debug-flag"}),
    "raw_sql.py": ("""
        from django.db.models.expressions import RawSQL
        def sorted_by(qs, column):
            return qs.annotate(v=RawSQL(f"select {column} from t", ()))
        """, {"S611"}),
    "shell_popen.py": ("""
        import subprocess
        def grep(pattern):
            return subprocess.Popen(f"grep {pattern} log.txt", shell=True)
        """, {"S602"}),
    "pprint_call.py": ("""
        import pprint
        def charge(order):
            pprint.pprint(order)
        """, {"T203"}),
    "ruff_secrets.py": ("""
        def check(password):
            if password == "Xk8#pQ2zLmN4":
                return True
            return login(passwd_value="Xk8#pQ2zLmN4")
        def open_vault(pass_phrase="Xk8#pQ2zLmN4"):
            return pass_phrase
        """, {"S105", "S106", "S107"}),
    "ruff_debug_hash.py": ("""
        import hashlib, os
        from flask import Flask
        app = Flask(__name__)
        def digest(password):
            return hashlib.md5(password.encode(), usedforsecurity=True).hexdigest()
        if os.environ.get("FLASK_DEBUG"):
            app.run(debug=True)
        """, {"S201", "S324"}),
    "shell_kwarg.py": ("""
        def archive(name):
            return run_command(f"tar czf {name}.tgz data", shell=True)
        """, {"S604"}),
}
