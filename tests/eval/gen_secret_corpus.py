#!/usr/bin/env python3
"""Labelled corpus for lg-policy's secret and structured-PII detectors
(make eval): positives for every secret type of the `credentials` policy and
every PII format, each value drawn from a seeded PRNG in the provider's
published shape (never a real key), placed in code, env, YAML, JSON, URL
query, CLI flag and prose; and hard negatives: placeholders, published
example keys, hashes, UUIDs, publishable keys, prose that names token
prefixes, identifiers and variable references.

The shapes here are written from the same public format facts as
policy/gen_secrets.py but independently of its regexes: a regex that drifts
from the format shows up as missed recall.

Usage: gen_secret_corpus.py --seed N --per-type K --out CORPUS --labels LABELS
Labels: {"externalId", "detectors": [...], "value": planted secret or ""}."""
import base64
import json
import os
import string
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from synth import HEX, Rand, corpus_args, b64u, eval_record, iban_check, luhn_digit, write_corpus  # noqa: E402

B62 = string.ascii_letters + string.digits
B64U = B62 + "_-"
B64 = B62 + "+/"
HEXU = "0123456789ABCDEF"
B36 = string.ascii_lowercase + string.digits
UP = string.ascii_uppercase
B32 = UP + "234567"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


class G(Rand):
    def __init__(self, seed):
        super().__init__(seed, B62)

    def uuid(self):
        return "%s-%s-%s-%s-%s" % (self.s(8, HEX), self.s(4, HEX), self.s(4, HEX), self.s(4, HEX), self.s(12, HEX))


def secret_types(g):
    """name -> (value generator, assignment name or None when the value
    carries its own prefix)."""
    s, d = g.s, g.digits
    T = {
        "openai": (lambda: g.pick(["sk-proj-" + s(74, B64U) + "T3BlbkFJ" + s(74, B64U), "sk-" + s(20) + "T3BlbkFJ" + s(20),
                                   "sk-svcacct-" + s(64, B64U), "sk-" + s(48)]), None),
        "openai-admin": (lambda: "sk-admin-" + s(64, B64U), None),
        "anthropic": (lambda: "sk-ant-api03-" + s(93, B64U) + "AA", None),
        "anthropic-admin": (lambda: "sk-ant-admin01-" + s(93, B64U) + "AA", None),
        "google-api-key": (lambda: "AIza" + s(35, B64U), None),
        "groq": (lambda: "gsk_" + s(52), None),
        "perplexity": (lambda: "pplx-" + s(48), None),
        "xai": (lambda: "xai-" + s(80), None),
        "openrouter": (lambda: "sk-or-v1-" + s(64, HEX), None),
        "deepseek": (lambda: "sk-" + s(32, HEX), None),
        "replicate": (lambda: "r8_" + s(37), None),
        "together": (lambda: "tgp_v1_" + s(43, B64U), None),
        "fireworks": (lambda: "fw_" + s(24), None),
        "huggingface": (lambda: "hf_" + s(34, string.ascii_letters), None),
        "huggingface-org": (lambda: "api_org_" + s(34, string.ascii_letters), None),
        "cerebras": (lambda: "csk-" + s(48), None),
        "nvidia-nim": (lambda: "nvapi-" + s(64, B64U), None),
        "tavily": (lambda: "tvly-" + g.pick(["", "dev-"]) + s(32), None),
        "firecrawl": (lambda: "fc-" + s(32, HEX), None),
        "jina": (lambda: "jina_" + s(60, B64U), None),
        "llamacloud": (lambda: "llx-" + s(48), None),
        "pinecone": (lambda: "pcsk_" + s(5) + "_" + s(60), None),
        "langsmith": (lambda: "lsv2_" + g.pick(["pt", "sk"]) + "_" + s(32, HEX) + "_" + s(10, HEX), None),
        "voyage": (lambda: "pa-" + s(43, B64U), None),
        "elevenlabs": (lambda: "sk_" + s(48, HEX), None),
        "helicone": (lambda: "sk-helicone-" + "-".join(s(7, B36) for _ in range(4)), None),
        "langfuse": (lambda: g.pick(["sk-lf-", "pk-lf-"]) + g.uuid(), None),
        "mistral": (lambda: s(32), "MISTRAL_API_KEY"),
        "cohere": (lambda: s(40), "COHERE_API_KEY"),
        "azure-openai": (lambda: s(32, HEX), "AZURE_OPENAI_API_KEY"),
        "ai21": (lambda: s(32), "AI21_API_KEY"),
        "assemblyai": (lambda: s(32, HEX), "ASSEMBLYAI_API_KEY"),
        "deepgram": (lambda: s(40, HEX), "DEEPGRAM_API_KEY"),
        "wandb": (lambda: s(40, HEX), "WANDB_API_KEY"),
        "stability": (lambda: "sk-" + s(48), "STABILITY_API_KEY"),
        "aws": (lambda: g.pick(["AKIA", "ASIA"]) + s(16, B32), None),
        "aws-secret-key": (lambda: s(40, B64), "aws_secret_access_key"),
        "aws-session-token": (lambda: "IQoJb3JpZ2luX2Vj" + s(300, B64), None),
        "aws-bedrock": (lambda: g.pick(["ABSKQmVkcm9ja0FQSUtleS" + s(100, B64),
                                        "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t" + s(120, B64)]), None),
        "gcp-oauth-client-secret": (lambda: "GOCSPX-" + s(28, B64U), None),
        "gcp-oauth-access-token": (lambda: "ya29." + s(150, B64U), None),
        "gcp-oauth-refresh-token": (lambda: "1//0" + s(80, B64U), None),
        "azure-ad-client-secret": (lambda: s(3, B62) + "8Q~" + s(34, B62 + "_~.-"), None),
        "alibaba-access-key": (lambda: "LTAI" + s(20), None),
        "tencent-secret-id": (lambda: "AKID" + s(32), None),
        "digitalocean-pat": (lambda: "dop_v1_" + s(64, HEX), None),
        "digitalocean-oauth": (lambda: "doo_v1_" + s(64, HEX), None),
        "digitalocean-refresh": (lambda: "dor_v1_" + s(64, HEX), None),
        "heroku": (lambda: "HRKU-AA" + s(58, B64U), None),
        "heroku-legacy": (lambda: g.uuid(), "HEROKU_API_KEY"),
        "cloudflare-api-token": (lambda: s(40, B64U), "CLOUDFLARE_API_TOKEN"),
        "cloudflare-origin-ca": (lambda: "v1.0-" + s(24, HEX) + "-" + s(146, HEX), None),
        "vercel": (lambda: g.pick(["vcp_", "vci_", "vca_"]) + s(56), None),
        "netlify": (lambda: "nfp_" + s(36), None),
        "flyio": (lambda: "FlyV1 fm2_" + s(120, B64), None),
        "render": (lambda: "rnd_" + s(32), None),
        "supabase-pat": (lambda: "sbp_" + s(40, HEX), None),
        "supabase-secret": (lambda: "sb_secret_" + s(31, B64U), None),
        "planetscale": (lambda: g.pick(["pscale_tkn_", "pscale_pw_", "pscale_oauth_"]) + s(43, B64U), None),
        "neon": (lambda: "napi_" + s(64, B36), None),
        "doppler": (lambda: g.pick(["dp.pt.", "dp.st.", "dp.sa."]) + s(43), None),
        "vault-token": (lambda: g.pick(["hvs.", "hvb.", "hvr."]) + s(90, B64U), None),
        "terraform-cloud": (lambda: s(14) + ".atlasv1." + s(67, B64U), None),
        "pulumi": (lambda: "pul-" + s(40, HEX), None),
        "grafana-cloud-token": (lambda: "glc_" + s(120, B64), None),
        "grafana-service-account": (lambda: "glsa_" + s(32) + "_" + s(8, HEX), None),
        "newrelic": (lambda: g.pick(["NRAK-", "NRII-", "NRJS-"]) + s(27, UP + string.digits), None),
        "datadog": (lambda: s(32, HEX), "DD_API_KEY"),
        "sentry": (lambda: g.pick(["sntrys_eyJ" + s(100, B64), "sntryu_" + s(64, HEX)]), None),
        "sentry-dsn": (lambda: "https://%s@o%s.ingest.sentry.io/%s" % (s(32, HEX), d(6), d(7)), None),
        "postman": (lambda: "PMAK-" + s(24, HEX) + "-" + s(34, HEX), None),
        "dynatrace": (lambda: "dt0c01." + s(24, B32) + "." + s(64, B32), None),
        "sonarqube": (lambda: g.pick(["sqp_", "sqa_", "squ_"]) + s(40, HEX), None),
        "figma": (lambda: "figd_" + s(40, B64U), None),
        "airtable": (lambda: "pat" + s(14) + "." + s(64, HEX), None),
        "typeform": (lambda: "tfp_" + s(59, B64U), None),
        "contentful": (lambda: "CFPAT-" + s(43, B64U), None),
        "mapbox": (lambda: "sk.eyJ" + s(60, B64U) + "." + s(22, B64U), None),
        "okta": (lambda: "00" + s(40, B64U), "OKTA_API_TOKEN"),
        "auth0": (lambda: s(64, B64U), "AUTH0_CLIENT_SECRET"),
        "twitter-bearer": (lambda: "A" * 22 + s(90, B62 + "%"), None),
        "facebook-access-token": (lambda: "EAA" + s(150), None),
        "dropbox": (lambda: "sl." + s(140, B64U), None),
        "hubspot": (lambda: "pat-na1-" + g.uuid(), None),
        "klaviyo": (lambda: "pk_" + s(34, HEX), None),
        "plaid": (lambda: "access-production-" + g.uuid(), None),
        "flutterwave": (lambda: "FLWSECK-" + s(32, HEX) + "-X", None),
        "razorpay": (lambda: "rzp_live_" + s(14), None),
        "paystack": (lambda: "sk_live_" + s(40, HEX), None),
        "shippo": (lambda: "shippo_live_" + s(40, HEX), None),
        "easypost": (lambda: "EZAK" + s(54), None),
        "onepassword-service-account": (lambda: "ops_eyJ" + s(200, B64), None),
        "infracost": (lambda: "ico-" + s(32), None),
        "prefect": (lambda: "pnu_" + s(36), None),
        "readme": (lambda: "rdme_" + s(70, B36), None),
        "rubygems": (lambda: "rubygems_" + s(48, HEX), None),
        "clojars": (lambda: "CLOJARS_" + s(60, B36), None),
        "nuget": (lambda: "oy2" + s(43, B36), None),
        "docker-hub-pat": (lambda: "dckr_pat_" + s(27, B64U), None),
        "artifactory": (lambda: g.pick(["AKCp" + s(69), "cmVmdGtuOjAxOj" + s(60)]), None),
        "circleci": (lambda: "CCIPAT_" + s(22) + "_" + s(40, HEX), None),
        "buildkite": (lambda: "bkua_" + s(40, HEX), None),
        "harness": (lambda: "pat." + s(22, B64U) + "." + s(24, HEX) + "." + s(20), None),
        "sourcegraph": (lambda: "sgp_" + s(16, HEX) + "_" + s(40, HEX), None),
        "frameio": (lambda: "fio-u-" + s(64, B64U), None),
        "duffel": (lambda: "duffel_live_" + s(43, B64U), None),
        "adafruit-io": (lambda: "aio_" + s(28), None),
        "age-secret-key": (lambda: "AGE-SECRET-KEY-1" + s(58, BECH32.upper()), None),
        "brevo": (lambda: "xkeysib-" + s(64, HEX) + "-" + s(16), None),
        "mandrill": (lambda: "md-" + s(22, B64U), None),
        "resend": (lambda: "re_" + s(8) + "_" + s(24), None),
        "postmark": (lambda: g.uuid(), "POSTMARK_SERVER_TOKEN"),
        "snyk": (lambda: g.uuid(), "SNYK_TOKEN"),
        "pagerduty": (lambda: s(20, B64U), "PAGERDUTY_API_KEY"),
        "algolia-admin": (lambda: s(32, HEX), "ALGOLIA_ADMIN_KEY"),
        "twitch": (lambda: s(30, B36), "TWITCH_CLIENT_SECRET"),
        "zendesk": (lambda: s(40), "ZENDESK_API_TOKEN"),
        "intercom": (lambda: "dG9rOj" + s(60, B64), "INTERCOM_ACCESS_TOKEN"),
        "serpapi": (lambda: s(64, HEX), "SERPAPI_API_KEY"),
        "twilio-auth-token": (lambda: s(32, HEX), "TWILIO_AUTH_TOKEN"),
        "vonage": (lambda: s(16), "VONAGE_API_SECRET"),
        "fastly": (lambda: s(32, B64U), "FASTLY_API_TOKEN"),
        "railway": (lambda: g.uuid(), "RAILWAY_TOKEN"),
        "mailgun-webhook": (lambda: s(32, HEX), "MAILGUN_WEBHOOK_SIGNING_KEY"),
        "github-classic-token": (lambda: s(40, HEX), "GITHUB_TOKEN"),
        "github-app-secret": (lambda: s(40, HEX), "GITHUB_CLIENT_SECRET"),
        "github-webhook-secret": (lambda: s(32), "GITHUB_WEBHOOK_SECRET"),
        "github": (lambda: g.pick(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]) + s(36), None),
        "github-fine-grained": (lambda: "github_pat_" + s(22) + "_" + s(59), None),
        "gitlab-pat": (lambda: "glpat-" + s(20, B64U), None),
        "gitlab-deploy-token": (lambda: "gldt-" + s(20, B64U), None),
        "gitlab-runner-token": (lambda: "glrt-" + s(20, B64U), None),
        "gitlab-ci-job-token": (lambda: "glcbt-" + s(2, HEX) + "_" + s(20, B64U), None),
        "gitlab-trigger-token": (lambda: "glptt-" + s(40, HEX), None),
        "gitlab-feed-token": (lambda: "glft-" + s(20, B64U), None),
        "gitlab-incoming-mail-token": (lambda: "glimt-" + s(25, B64U), None),
        "gitlab-agent-token": (lambda: "glagent-" + s(50, B64U), None),
        "gitlab-scim-token": (lambda: "glsoat-" + s(20, B64U), None),
        "gitlab-oauth-secret": (lambda: "gloas-" + s(64, B64U), None),
        "gitlab-feature-flag-token": (lambda: "glffct-" + s(20, B64U), None),
        "gitlab-workspace-token": (lambda: "glwt-" + s(20, B64U), None),
        "gitlab-runner-registration": (lambda: "GR1348941" + s(20, B64U), None),
        "bitbucket-app-password": (lambda: "ATBB" + s(32), None),
        "atlassian-api-token": (lambda: "ATATT3xFfGF0" + s(180, B64U), None),
        "atlassian-access-token": (lambda: "ATCTT3xFfGN0" + s(180, B64U), None),
        "npm": (lambda: "npm_" + s(36), None),
        "pypi": (lambda: "pypi-AgEIcHlwaS5vcmc" + s(150, B64U), None),
        "pypi-test": (lambda: "pypi-AgENdGVzdC5weXBpLm9yZw" + s(150, B64U), None),
        "linear": (lambda: "lin_api_" + s(40), None),
        "notion": (lambda: g.pick(["ntn_" + d(11) + s(35), "secret_" + s(43)]), None),
        "slack-bot-token": (lambda: "xoxb-%s-%s-%s" % (d(12), d(13), s(24)), None),
        "slack-user-token": (lambda: "xoxp-%s-%s-%s-%s" % (d(12), d(12), d(13), s(32, HEX)), None),
        "slack-workspace-token": (lambda: "xoxa-2-%s-%s-%s-%s" % (d(12), d(12), d(13), s(32, HEX)), None),
        "slack-refresh-token": (lambda: "xoxr-%s-%s" % (d(12), s(40)), None),
        "slack-session-token": (lambda: "xoxs-%s-%s-%s" % (d(12), d(12), s(40)), None),
        "slack-legacy-token": (lambda: "xoxo-%s-%s" % (d(12), s(40)), None),
        "slack-client-token": (lambda: "xoxc-%s-%s-%s-%s" % (d(12), d(12), d(13), s(64, HEX)), None),
        "slack-cookie-token": (lambda: "xoxd-" + s(80, B64), None),
        "slack-app-token": (lambda: "xapp-1-A%s-%s-%s" % (s(10, UP + string.digits), d(13), s(64, HEX)), None),
        "slack-config-token": (lambda: "xoxe.xoxp-1-" + s(150), None),
        "slack-config-refresh-token": (lambda: "xoxe-1-" + s(140), None),
        "slack-webhook": (lambda: "%s://hooks.slack.com/services/T%s/B%s/%s" % (g.pick(["https", "http"]), s(10, UP + string.digits),
                                                                             s(10, UP + string.digits), s(24)), None),
        "slack-workflow-webhook": (lambda: "https://hooks.slack.com/%s/T%s/A%s/%s/%s" % (
            g.pick(["workflows", "triggers"]), s(10, UP + string.digits), s(10, UP + string.digits), d(18), s(24)), None),
        "discord-bot-token": (lambda: base64.b64encode(d(18).encode()).decode().rstrip("=") + "." + s(6, B64U) + "." + s(38, B64U),
                              "DISCORD_BOT_TOKEN"),
        "discord-webhook": (lambda: "https://discord.com/api/webhooks/%s/%s" % (d(18), s(68, B64U)), None),
        "telegram-bot-token": (lambda: "%s:AA%s" % (d(10), s(33, B64U)), None),
        "teams-webhook": (lambda: "https://contoso.webhook.office.com/webhookb2/%s@%s/IncomingWebhook/%s/%s" % (
            g.uuid(), g.uuid(), s(32, HEX), g.uuid()), None),
        "google-chat-webhook": (lambda: "https://chat.googleapis.com/v1/spaces/%s/messages?key=%s&token=%s" % (
            s(11, B64U), "AIza" + s(35, B64U), s(43, B64U) + "%3D"), None),
        "mattermost-webhook": (lambda: "https://chat.example.org/hooks/" + s(26, B36), None),
        "stripe-secret-key": (lambda: g.pick(["sk_live_", "sk_test_"]) + s(99), None),
        "stripe-restricted-key": (lambda: g.pick(["rk_live_", "rk_test_"]) + s(99), None),
        "stripe-webhook-secret": (lambda: "whsec_" + s(32), None),
        "square": (lambda: g.pick(["EAAA" + s(60, B64U), "sq0csp-" + s(43, B64U), "sq0atp-" + s(22, B64U)]), None),
        "braintree": (lambda: "access_token$production$%s$%s" % (s(16, B36), s(32, HEX)), None),
        "paypal-client-secret": (lambda: "E" + s(79, B64U), "PAYPAL_CLIENT_SECRET"),
        "shopify": (lambda: g.pick(["shpat_", "shpca_", "shppa_", "shpss_"]) + s(32, HEX), None),
        "twilio-api-key": (lambda: "SK" + s(32, HEX), None),
        "sendgrid": (lambda: "SG." + s(22, B64U) + "." + s(43, B64U), None),
        "mailgun": (lambda: "key-" + s(32, HEX), None),
        "mailchimp": (lambda: s(32, HEX) + "-us" + str(g.r.randrange(1, 21)), None),
        "databricks": (lambda: "dapi" + s(32, HEX), None),
        "databricks-oauth-secret": (lambda: "dose" + s(32, HEX), None),
        "lob": (lambda: "live_" + s(35, HEX), "LOB_API_KEY"),
        "jwt": (lambda: jwt(g), None),
        "pem": (lambda: pem(g), None),
        "putty-private-key": (lambda: "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: eddsa-key-2026\nPublic-Lines: 2\n"
                              + s(64, B64), None),
        "age-secret-key": (lambda: "AGE-SECRET-KEY-1" + s(58, BECH32.upper()), None),
        "gcp-service-account": (lambda: s(40, HEX), None),
        "azure-storage-key": (lambda: s(86, B64) + "==", None),
        "azure-connection-string": (lambda: s(43, B64) + "=", None),
        "azure-sas-token": (lambda: s(43, B64) + "%3D", None),
        "azure-devops-pat": (lambda: s(52, "abcdefghijklmnopqrstuvwxyz234567"), "AZURE_DEVOPS_PAT"),
        "bearer-token": (lambda: s(40, B64U), None),
        "basic-auth-header": (lambda: base64.b64encode(("%s:%s" % (g.pick(["api", "svc", "bob"]), s(14))).encode()).decode(), None),
    }
    return T


# Types whose value only shows inside a larger shape.
SHAPES = {
    "gcp-service-account": '{{"type": "service_account", "project_id": "demo-123", "private_key_id": "{v}", '
                           '"client_email": "bot@demo-123.iam.gserviceaccount.com"}}',
    "azure-storage-key": "DefaultEndpointsProtocol=https;AccountName=acct01;AccountKey={v};EndpointSuffix=core.windows.net",
    "azure-connection-string": "Endpoint=sb://ns01.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;"
                               "SharedAccessKey={v}",
    "azure-sas-token": "https://acct01.blob.core.windows.net/c/f.txt?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-12-01&sig={v}",
    "bearer-token": "Authorization: Bearer {v}",
    "basic-auth-header": "Authorization: Basic {v}",
}


def jwt(g):
    alg = g.pick(["HS256", "RS256", "none"])
    hdr = b64u(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = b64u(json.dumps({"sub": g.s(10), "iat": g.r.randrange(10 ** 9, 2 * 10 ** 9)}).encode())
    sig = "" if alg == "none" else g.s(43, B64U)
    return hdr + "." + body + "." + sig


def pem(g):
    kind = g.pick(["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"])
    b = base64.b64encode(bytes(g.r.getrandbits(8) for _ in range(200))).decode()
    return "-----BEGIN %s-----\n%s\n-----END %s-----" % (kind, "\n".join(b[i:i + 64] for i in range(0, len(b), 64)), kind)


URIS = {
    "postgres-uri": "postgresql://{u}:{p}@db.internal:5432/app",
    "mysql-uri": "mysql://{u}:{p}@mysql.internal:3306/shop",
    "mongodb-uri": "mongodb+srv://{u}:{p}@cluster0.abcde.mongodb.net/prod",
    "redis-uri": "rediss://{u}:{p}@cache.internal:6380/0",
    "amqp-uri": "amqps://{u}:{p}@mq.internal/vhost",
    "mssql-uri": "mssql://{u}:{p}@sql.internal:1433/erp",
    "kafka-uri": "nats://{u}:{p}@nats.internal:4222",
    "clickhouse-uri": "clickhouse://{u}:{p}@ch.internal:9000/logs",
    "basic-auth-url": "https://{u}:{p}@git.example.com/org/repo.git",
    "jdbc-password": "jdbc:postgresql://db.internal:5432/app?user={u}&password={p}",
}


def positives(g, per):
    out = []
    T = secret_types(g)
    for name, (gen, assign) in T.items():
        for _ in range(per):
            v = gen()
            if name in SHAPES:
                t = SHAPES[name]
            elif assign:
                t = g.pick(["{A}={v}", "export {A}=\"{v}\"", "{a}: {v}", "\"{a}\": \"{v}\"", "os.environ[\"{A}\"] = \"{v}\""])
            elif name in ("pem", "putty-private-key"):
                t = g.pick(["Here is the deploy key:\n{v}\nkeep it safe", "{v}", "key_file contents: {v}"])
            else:
                t = g.pick(["{v}", "my token is {v} thanks", "KEY={v}", "config:\n  credential: {v}\n  region: eu",
                            "\"value\": \"{v}\"", "curl -H 'X-Key: {v}' https://api.example.com", "use {v} for now"])
            out.append((name, t.format(v=v, A=assign or "", a=(assign or "").lower()), v))
    for name, shape in URIS.items():
        for _ in range(per):
            p = g.s(g.pick([10, 16, 24]), B62 + "!*_.-")
            u = g.pick(["app", "admin", "svc_user", "deploy"])
            out.append((name, g.pick(["DATABASE_URL={v}", "connect to {v}", "{v}"]).format(v=shape.format(u=u, p=p)), p))
    gen_names = ["api_key", "API_KEY", "apiKey", "client_secret", "clientSecret", "DB_PASSWORD", "db.password",
                 "x-auth-token", "access_token", "SECRET_KEY", "signing_secret", "refresh_token", "passwd", "private_key",
                 "app_secret", "admin-password", "SESSION_SECRET", "webhook_secret", "auth_token", "credentials"]
    for _ in range(per * 4):
        v = g.s(g.pick([12, 20, 32, 40]), B62 + g.pick(["", "!@#%^*-_"]))
        if not any(c.isdigit() for c in v):
            v += str(g.r.randrange(10))
        n = g.pick(gen_names)
        t = g.pick(["{n}={v}", "{n} = \"{v}\"", "{n}: {v}", "\"{n}\": \"{v}\"", "https://api.example.com/v1/items?{n}={v}&page=2",
                    "./deploy --{n}={v}", "run --{n} {v} --verbose", "{n}: '{v}'\nnext_key:", "$config['{n}'] = '{v}';"])
        out.append(("generic-secret", t.format(n=n, v=v), v))
    return out


CARDS = [("4", 16), ("4", 13), ("51", 16), ("55", 16), ("2221", 16), ("2720", 16), ("34", 15), ("37", 15), ("6011", 16),
         ("65", 16), ("3528", 16), ("3589", 16), ("36", 14), ("300", 14), ("62", 16), ("62", 19), ("1", 15),  # UATP
         ("5019", 16), ("4571", 16),  # Dankort
         ("50", 16), ("56", 16), ("58", 16), ("6759", 16), ("6761", 19), ("6304", 18), ("67", 12),  # Maestro
         ("2200", 16), ("2204", 16)]  # Mir


def account_digits(g, n):
    while True:
        v = g.digits(n)
        if v[0] != "0" and not any(v[i:i + 6] in "0123456789" or v[i:i + 6] in "9876543210" or len(set(v[i:i + 6])) == 1
                                   for i in range(n - 5)):
            return v


def pii_positives(g, per):
    out = []
    for pre, n in CARDS:
        for _ in range(max(2, per // 4)):
            d = pre + g.digits(n - len(pre) - 1)
            d += luhn_digit(d)
            sep = g.pick(["", " ", "-"]) if n == 16 else ""
            v = sep.join(d[i:i + 4] for i in range(0, n, 4)) if sep else d
            out.append(("card", g.pick(["card {v} exp 12/29", "Paid with {v}.", "{v}"]).format(v=v), v))
    for _ in range(per * 2):
        cc, blen = g.pick([("DE", 18), ("FR", 23), ("NL", 14), ("ES", 20), ("IT", 23), ("GB", 18), ("DK", 14), ("BR", 25)])
        bban = (g.s(4, UP) + g.digits(blen - 4)) if cc in ("GB", "NL") else g.digits(blen)
        iban = cc + iban_check(cc, bban) + bban
        sep = g.pick(["", " ", "-"])
        v = sep.join(iban[i:i + 4] for i in range(0, len(iban), 4)) if sep else iban
        out.append(("iban", g.pick(["Refund to IBAN {v} AND close", "IBAN: {v}", "{v} THANKS", "pay {v} today"]).format(v=v), v))
    for _ in range(per * 2):
        v = g.pick(["+55 11 9%s-%s" % (g.digits(4), g.digits(4)), "+91 9%s %s" % (g.digits(4), g.digits(5)),
                    "+44 7%s %s" % (g.digits(3), g.digits(6)), "07%s %s" % (g.digits(3), g.digits(6)),
                    "+49 30 %s %s" % (g.digits(4), g.digits(4)), "+33 6 %s %s %s %s" % tuple(g.digits(2) for _ in range(4)),
                    "(%d%s) 555-01%s" % (g.r.randrange(2, 10), g.digits(2), g.digits(2)), "+81 90-%s-%s" % (g.digits(4), g.digits(4)),
                    "+61 4%s %s %s" % (g.digits(2), g.digits(3), g.digits(3))])
        out.append(("phone", g.pick(["Call me at {v}.", "phone: {v}", "WhatsApp {v}", "{v}"]).format(v=v), v))
    for _ in range(per * 2):
        local = g.pick(["jane", "jürgen", "maría.josé", "li.wei", "ops-team", "a_b", "k", "noreply+x", "пример", "山田"])
        dom = g.pick(["example.com", "bücher.de", "xn--bcher-kva.de", "почта.рф", "example.xn--p1ai", "mail.example.co.uk",
                      "例え.jp", "sub.domain.example.net"])
        v = local + "@" + dom
        out.append(("email", g.pick(["Contact {v} please", "email: {v}", "<{v}>", "{v}"]).format(v=v), v))
    for _ in range(per):
        v = "%d.%d.%d.%d" % (g.pick([10, 172, 192, 203, 198, 8, 54]), g.r.randrange(256), g.r.randrange(256), g.r.randrange(1, 255))
        out.append(("ip", g.pick(["request from {v}", "client_ip={v}", "Blocked {v}"]).format(v=v), v))
        v = "2001:db8:%x:%x::%x" % (g.r.randrange(1, 65536), g.r.randrange(1, 65536), g.r.randrange(1, 65536))
        out.append(("ip", "IPv6 %s resolved" % v, v))
    for _ in range(per):
        v = g.ssn()
        out.append(("ssn", g.pick(["my SSN is {v}", "SSN: {v}", "{v}"]).format(v=v), v))
    for _ in range(per):
        v = "9%s-%d-%s" % (g.digits(2), g.pick([50, 65, 70, 78, 88, 90, 92, 94, 99]), g.digits(4))
        out.append(("itin", g.pick(["ITIN: {v}", "my taxpayer id (ITIN) is {v}", "TIN {v}"]).format(v=v), v))
        v = g.pick([account_digits(g, 9), g.s(1, UP) + account_digits(g, 8)])
        out.append(("passport", g.pick(["passport number: {v}", "Passport No. {v}", "my passport is {v}"]).format(v=v), v))
        v = g.pick([g.s(1, UP) + account_digits(g, 7), account_digits(g, 9), g.s(1, UP) + account_digits(g, 12)])
        out.append(("drivers-license", g.pick(["driver's license {v}", "Driving licence number: {v}", "DL# {v}"]).format(v=v), v))
        v = account_digits(g, g.pick([8, 10, 12, 14]))
        out.append(("bank-account", g.pick(["account number {v}", "Acct: {v}", "bank account no. {v}"]).format(v=v), v))
        while True:
            d8 = account_digits(g, 8)
            w = [3, 7, 1, 3, 7, 1, 3, 7]
            c = (10 - sum(int(x) * y for x, y in zip(d8, w)) % 10) % 10
            v = d8 + str(c)
            break
        out.append(("routing-number", g.pick(["routing number {v}", "ABA {v}", "RTN: {v}"]).format(v=v), v))
    streets = ["Main", "Oak", "Maple", "Pennsylvania", "Cedar Hill", "Elm", "Sunset", "5th", "42nd"]
    kinds = ["Street", "St", "Avenue", "Ave", "Road", "Rd", "Boulevard", "Blvd", "Lane", "Drive", "Court", "Parkway"]
    for _ in range(per):
        v = "%d %s %s" % (g.r.randrange(1, 99999), g.pick(streets), g.pick(kinds))
        out.append(("address", g.pick(["Ship to {v}.", "My address is {v}", "billing: {v}"]).format(v=v), v))
    return out


def negatives(g):
    s = g.s
    neg = [
        # placeholders and templates
        "OPENAI_API_KEY=sk-...", "OPENAI_API_KEY=sk-your-api-key-here", "api_key = \"YOUR_API_KEY_HERE\"",
        "token: <your-token>", "password=${DB_PASSWORD}", "secret_key = '{{ secret_key }}'", "API_KEY=xxxxxxxxxxxxxxxxxxxx",
        "password: ********", "client_secret: REPLACE_ME", "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "stripe key sk_live_xxxxxxxxxxxxxxxxxxxxxxxx", "export AWS_SECRET_ACCESS_KEY=<secret>", "auth_token: null",
        "password: changeme", "password = \"password\"", "api_key: \"%s\"", "token = os.environ['API_TOKEN']",
        "secret = process.env.SECRET", "password = getpass.getpass()", "api_key = settings.OPENAI_KEY",
        "DATABASE_URL=postgres://user:password@localhost/db", "redis://:${REDIS_PASSWORD}@cache:6379",
        "mongodb://<username>:<password>@cluster.mongodb.net", "https://user:pass@example.com",
        "password: hunter2", "token_count: 1234567890", "max_tokens: 4096", "tokens_used=98765",
        "auth: required", "credentials: none", "pass: true", "--password-file /run/secrets/db",
        "token_type: Bearer", "token_expires_at: 2026-12-01T00:00:00Z", "password_hash: $2b$12$" + s(53, B62 + "./"),
        # published example keys
        "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "stripe.api_key = 'sk_test_4eC39HqLyjWDarjtT1zdp7dc'", "sk_test_BQokikJOvBiI2HlWgH4olfQ2 from the Stripe docs",
        "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy", "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        # publishable, public by design
        "Stripe.js: pk_live_" + s(99), "publishableKey: 'pk_test_" + s(24) + "'", "mapbox token pk.eyJ" + s(60, B64U) + "." + s(22, B64U),
        "LANGFUSE_HOST=https://cloud.langfuse.com",
        # prose about tokens
        "OpenAI keys start with sk- and Anthropic keys with sk-ant-.", "GitHub tokens use prefixes like ghp_, gho_ and github_pat_.",
        "Rotate your Slack xoxb- tokens every 90 days.", "GitLab personal access tokens begin with glpat-.",
        "Never paste your AWS secret access key into a prompt.", "The password field must be 12 characters.",
        "Use the token endpoint to refresh credentials.", "Our API keys are 32 characters long.",
        "Set the Authorization header to Bearer followed by your token.", "npm tokens look like npm_ followed by 36 characters",
        "the glpat- prefix identifies GitLab tokens", "hf_ tokens come from Hugging Face settings",
        # identifiers, versions, misc that share shapes
        "commit " + s(40, HEX), "sha256: " + s(64, HEX), "md5 " + s(32, HEX), "request id " + g.uuid(),
        "trace_id=" + s(32, HEX), "etag \"" + s(32, HEX) + "\"", "docker image sha256:" + s(64, HEX),
        "version 1.2.3", "model: gpt-4o-mini-2024-07-18", "file key-features.md", "see task-1234567",
        "sk-learn and sk-image are libraries", "the SKU SK-1234", "path /v1/keys/" + g.uuid(),
        "base64 of hello is aGVsbG8=", "The key insight is simple.", "token budget exceeded",
        "User-Agent: Mozilla/5.0", "Content-Type: application/json", "Basic plan costs $10",
        "Authorization: Basic dXNlcjpwYXNzd29yZA==", "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ" + s(60, B64) + " user@host",
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE" + s(40, B64) + "\n-----END PUBLIC KEY-----",
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU" + s(40, B64) + "\n-----END CERTIFICATE-----",
        "eyJhbGciOiJIUzI1NiJ9 is just a header", "lorem ipsum dolor sit amet",
        "The secret to good bread is time.", "password reset link sent", "passphrase strength: strong",
        "Your one-time code is 482913", "Call extension 1234", "see https://example.com/docs?page=2&sort=asc",
        "KEY=\nNAME=value", "API_KEY=\nDEBUG=true", "token:\n  - a\n  - b",
        # PII look-alikes
        "0.0.0.0 binds all interfaces", "broadcast 255.255.255.255", "netmask 255.255.255.0",
        "order 550e8400-e29b-41d4-a716-446655440000 shipped", "born 2023-01-15, invoice 2023-0115-9921",
        "16 digits 4111 1111 1111 1112 fail Luhn", "icon@2x.png and @mention", "order number 1234567890 confirmed",
        "SSN-like but invalid: 000-12-3456 or 666-45-6789", "DE89 3704 0044 0532 0130 01 has a bad checksum",
        "meeting at 10:30:45, MAC 00:1A:2B:3C:4D:5E", "the account was created on 2024-05-10",
        "passport photos cost $15", "driver's license renewal takes 2 weeks", "routing table has 512 entries",
        "ticket 4839201758 assigned", "see page 12345678", "Invoice 2024-000123 for account setup",
    ]
    for _ in range(120):
        neg.append(g.pick([
            "Reference %s was attached." % g.uuid(), "git sha %s" % s(40, HEX), "checksum sha256=%s" % s(64, HEX),
            "span_id: %s" % s(16, HEX), "session %s" % s(24, HEX), "build %s-%s" % (s(8, HEX), s(4, HEX)),
            "cache key %s" % s(32, HEX), "order %s" % s(12, string.digits), "tracking %s" % s(18, UP + string.digits),
            "the word %s in %s" % (s(8, string.ascii_lowercase), s(10, string.ascii_lowercase)),
        ]))
    return neg


def record(g, i, text):
    place = g.pick(["output", "chat", "span-input", "span-output", "metadata", "input"])
    return eval_record("sec-%05d" % i, i, text, place, "tool", "run")


def main():
    a = corpus_args(__doc__, ("--per-type", {"type": int, "default": 12}))
    g = G(a.seed)
    cases = positives(g, a.per_type) + pii_positives(g, a.per_type) + [(None, t, "") for t in negatives(g)]
    g.r.shuffle(cases)
    write_corpus(a.out, a.labels, ((record(g, i, text), {"externalId": "sec-%05d" % i, "detectors": [det] if det else [],
                                                          "value": value, "text": text})
                                   for i, (det, text, value) in enumerate(cases)))

if __name__ == "__main__":
    main()
