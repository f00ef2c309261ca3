"""Django settings made from the data folder (no settings module with paths in the repository).

    setup(s, **overrides)         configure Django for the data folder `s` and call django.setup()
    django_settings(s, opts)      the settings dict (used by setup and by the tests)
    load_options(store)           <data>/portal/portal.toml (created with commented defaults)

The store folder <data>/portal/ holds portal.sqlite3, the generated secret key, uploads, kept
submission versions and portal.toml. Nothing of it is in the repository.
"""
from __future__ import annotations

import datetime as dt
import os
import secrets
import tomllib
from pathlib import Path

from portal.services import Settings

OPTIONS_FILE = "portal.toml"
DEFAULTS = {
    "allowed_hosts": [],            # host names the portal answers to besides localhost
    "trusted_proxy": "",            # the reverse proxy's address: only its X-Forwarded-For is trusted
    "csrf_trusted_origins": [],     # e.g. ["https://portal.county.example"] behind a TLS proxy
    "behind_tls": False,            # cookies marked Secure (the proxy terminates TLS)
    "upload_limit_mb": 50,
    "check_timeout_seconds": 180,
    "check_workers": 1,
    "lockout_failures": 5,
    "lockout_minutes": 15,
    "session_hours": 8,
    "threads": 8,
}

OPTIONS_TEXT = """# cardcheck serve — settings of the county portal (this file lives in the data folder).
# Uncomment and change a line; restart `cardcheck serve` to apply.

# Host names the portal answers to, besides 127.0.0.1 and localhost (the name people type):
# allowed_hosts = ["portal.county.example"]

# Behind a reverse proxy (TLS is its job): its address; only its X-Forwarded-For is trusted.
# trusted_proxy = "127.0.0.1"
# csrf_trusted_origins = ["https://portal.county.example"]
# behind_tls = true            # session and CSRF cookies are then sent over HTTPS only

# upload_limit_mb = 50         # largest file one upload may hold
# check_timeout_seconds = 180  # a check that takes longer is stopped
# check_workers = 1            # checks that run at once (each in its own process)
# lockout_failures = 5         # failed logins before an account is locked ...
# lockout_minutes = 15         # ... for this long
# session_hours = 8
# threads = 8                  # waitress worker threads
"""


class OptionsError(ValueError):
    pass


def store_dir(s: Settings) -> Path:
    return s.data / "portal"


def load_options(store: Path) -> dict:
    store.mkdir(parents=True, exist_ok=True)
    path = store / OPTIONS_FILE
    if not path.exists():
        path.write_text(OPTIONS_TEXT, encoding="utf-8")
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise OptionsError(f"cannot read {path}: {exc}") from None
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise OptionsError(f"{path}: unknown setting {unknown[0]!r} (known: {', '.join(sorted(DEFAULTS))})")
    opts = dict(DEFAULTS)
    for k, v in raw.items():
        want = type(DEFAULTS[k])
        if want is int and isinstance(v, bool) or not isinstance(v, want):
            raise OptionsError(f"{path}: {k} must be {want.__name__}")
        opts[k] = v
    return opts


def secret_key(store: Path) -> str:
    """Made once per data folder, kept in <data>/portal/secret_key (readable by the owner only)."""
    path = store / "secret_key"
    if path.is_file():
        key = path.read_text(encoding="utf-8").strip()
        if len(key) >= 50:
            return key
    store.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(64)
    tmp = path.with_name(f".secret_key.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(key)
    os.replace(tmp, path)
    return key


def django_settings(s: Settings, opts: dict | None = None, *, store: Path | None = None) -> dict:
    opts = {**DEFAULTS, **(opts or {})}
    store = store or store_dir(s)
    for sub in ("uploads", "versions", "tmp", "exports"):
        (store / sub).mkdir(parents=True, exist_ok=True)
    tls = bool(opts["behind_tls"])
    return dict(
        SECRET_KEY=secret_key(store),
        DEBUG=False,
        ALLOWED_HOSTS=["127.0.0.1", "localhost", "[::1]", "testserver", *opts["allowed_hosts"]],
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
                        "django.contrib.messages", "django.contrib.staticfiles", "axes",
                        "portal.apps.PortalConfig"],
        MIDDLEWARE=["django.middleware.security.SecurityMiddleware",
                    "whitenoise.middleware.WhiteNoiseMiddleware",
                    "django.contrib.sessions.middleware.SessionMiddleware",
                    "django.middleware.common.CommonMiddleware",
                    "django.middleware.csrf.CsrfViewMiddleware",
                    "django.contrib.auth.middleware.AuthenticationMiddleware",
                    "django.contrib.messages.middleware.MessageMiddleware",
                    "django.middleware.clickjacking.XFrameOptionsMiddleware",
                    "portal.middleware.PortalMiddleware",
                    "axes.middleware.AxesMiddleware"],
        ROOT_URLCONF="portal.root_urls",
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [],
                    "APP_DIRS": True,
                    "OPTIONS": {"builtins": ["portal.templatetags.portal_tags"],
                                "context_processors": ["django.template.context_processors.request",
                                                       "django.contrib.auth.context_processors.auth",
                                                       "django.contrib.messages.context_processors.messages",
                                                       "portal.views.common.nav"]}}],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(store / "portal.sqlite3"),
                               "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE",
                                           "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}}},
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        AUTHENTICATION_BACKENDS=["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"],
        PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher",
                          "django.contrib.auth.hashers.PBKDF2PasswordHasher"],
        AUTH_PASSWORD_VALIDATORS=[
            {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
            {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
            {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
            {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"}],
        LOGIN_URL="portal:login",
        LANGUAGE_CODE="zh-hans",
        LANGUAGES=[("zh-hans", "简体中文")],
        TIME_ZONE="Asia/Shanghai",
        USE_I18N=True,
        USE_TZ=True,
        STATIC_URL="/static/",
        WHITENOISE_USE_FINDERS=True,
        WHITENOISE_AUTOREFRESH=False,
        WHITENOISE_MAX_AGE=3600,
        SESSION_COOKIE_NAME="cardcheck_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=tls,
        SESSION_COOKIE_AGE=int(opts["session_hours"]) * 3600,
        SESSION_EXPIRE_AT_BROWSER_CLOSE=True,
        CSRF_COOKIE_HTTPONLY=True,
        CSRF_COOKIE_SAMESITE="Lax",
        CSRF_COOKIE_SECURE=tls,
        CSRF_TRUSTED_ORIGINS=list(opts["csrf_trusted_origins"]),
        CSRF_FAILURE_VIEW="portal.views.common.csrf_failure",
        SECURE_CONTENT_TYPE_NOSNIFF=True,
        SECURE_REFERRER_POLICY="same-origin",
        SECURE_CROSS_ORIGIN_OPENER_POLICY="same-origin",
        X_FRAME_OPTIONS="DENY",
        FILE_UPLOAD_TEMP_DIR=str(store / "tmp"),
        FILE_UPLOAD_MAX_MEMORY_SIZE=2 * 1024 * 1024,
        DATA_UPLOAD_MAX_NUMBER_FILES=20,
        MESSAGE_STORAGE="django.contrib.messages.storage.session.SessionStorage",
        AXES_FAILURE_LIMIT=int(opts["lockout_failures"]),
        AXES_COOLOFF_TIME=dt.timedelta(minutes=int(opts["lockout_minutes"])),
        AXES_LOCKOUT_PARAMETERS=["username"],
        AXES_RESET_ON_SUCCESS=True,
        AXES_LOCKOUT_CALLABLE="portal.views.accounts.locked_out",
        AXES_CLIENT_IP_CALLABLE="portal.audit.client_ip",
        AXES_VERBOSE=False,
        LOGGING={"version": 1, "disable_existing_loggers": False,
                 "handlers": {"console": {"class": "logging.StreamHandler"}},
                 "loggers": {"django": {"handlers": ["console"], "level": "WARNING"},
                             "axes": {"handlers": ["console"], "level": "WARNING"}}},
        PORTAL={"data": s.data, "raw": s.raw, "reports": s.reports, "database": s.database, "source": s.source,
                "store": store, "upload_limit": int(opts["upload_limit_mb"]) * 1024 * 1024,
                "check_timeout": float(opts["check_timeout_seconds"]), "check_workers": int(opts["check_workers"]),
                "lockout_minutes": int(opts["lockout_minutes"]), "threads": int(opts["threads"]),
                "trusted_proxy": opts["trusted_proxy"], "behind_tls": tls},
    )


def setup(s: Settings, opts: dict | None = None, migrate: bool = True) -> dict:
    """Configure Django for the data folder and bring its store up to date."""
    import django
    from django.conf import settings

    store = store_dir(s)
    opts = load_options(store) if opts is None else opts
    if not settings.configured:
        settings.configure(**django_settings(s, opts, store=store))
        django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
    return opts


def portal_settings():
    """The data folder as a services.Settings (inside a configured portal)."""
    from django.conf import settings

    p = settings.PORTAL
    return Settings(data=Path(p["data"]), raw=Path(p["raw"]), reports=Path(p["reports"]),
                    database=Path(p["database"]), source=p["source"])
