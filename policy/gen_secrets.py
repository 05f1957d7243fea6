#!/usr/bin/env python3
"""The secret types of the built-in `credentials` policy, one row each:
its name, the key-format facts it is written from (prefix, alphabet,
length, embedded marker), where those facts come from, and the regex built
from them. Rewrites the patterns of `credentials` in policy/builtin.json
and the table between the secret-types markers of docs/policy.md; then run
policy/gen_builtin.py. Run from the repository root:
    python3 policy/gen_secrets.py && python3 policy/gen_builtin.py"""
import json
import os
import re

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

B62 = "A-Za-z0-9"
B64U = "A-Za-z0-9_-"
B64 = "A-Za-z0-9+/"
HEX = "0-9a-f"
HEXU = "0-9A-Fa-f"
# Not preceded or followed by a character the token could continue with.
LB = r"(?<![A-Za-z0-9_-])"
RB = r"(?![A-Za-z0-9_-])"
# A value after a name: quote, '=' or ':' (or '=>' ':='), quote; never a line break.
ASSIGN = r"""[\w.-]{0,30}?["']?\]?[ \t]*(?:[:=]|=>|:=)[ \t]*["']?"""

TYPES = []  # (name, regex, keywords, min entropy, validator, group, facts, source)
CONTEXTUAL = set()  # listed first: a named value beats the shape it shares (STABILITY_API_KEY=sk-...)


def add(name, regex, keywords, facts, source, entropy=3.0, validator="token", group=0):
    TYPES.append((name, regex, keywords, entropy, validator, group, facts, source))


def prefixed(name, prefix, body, facts, source, entropy=3.0, kw=None, lb=LB, rb=RB, ci=False):
    """A token that starts with a fixed prefix: prefix + body (a regex)."""
    rx = ("(?i)" if ci else "") + lb + re.escape(prefix).replace("\\_", "_") + body + rb
    add(name, rx, kw or [prefix.lower()], facts, source, entropy)


def contextual(name, words, value, facts, source, entropy=3.0, kw=None, validator="token"):
    """A value with no prefix of its own, assigned to a name that says
    whose it is (MISTRAL_API_KEY=..., "cohere_key": "...")."""
    rx = "(?i)(?<![a-z0-9])(?:%s)%s(%s)%s" % (words, ASSIGN, value, RB)
    CONTEXTUAL.add(len(TYPES))
    add(name, rx, kw, facts, source, entropy, validator, 1)


# ---- LLM providers ---------------------------------------------------------
prefixed("openai-admin", "sk-admin-", "[%s]{20,}" % B64U, "`sk-admin-` + base64url", "platform.openai.com/docs/api-reference/administration", 3.5)
add("openai", LB + r"sk-(?:(?:proj|svcacct|None)-[A-Za-z0-9_-]{20,}|(?!ant-|lf-|or-|admin-)[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|(?!ant-|lf-|or-|admin-)[A-Za-z0-9]{48})" + RB,
    ["sk-"], "`sk-proj-`/`sk-svcacct-`/`sk-None-` + base64url; legacy `sk-` + 48 base62 with the `T3BlbkFJ` marker (base64 of \"OpenAI\")", "platform.openai.com/docs/api-reference/authentication", 3.5)
prefixed("anthropic-admin", "sk-ant-admin01-", "[%s]{80,}" % B64U, "`sk-ant-admin01-` + base64url, ends `AA`", "docs.anthropic.com/en/api/administration-api", 3.5)
add("anthropic", LB + r"sk-ant-(?:api|oat|sid)\d{2}-[A-Za-z0-9_-]{32,}", ["sk-ant-"], "`sk-ant-api03-` + 93 base64url + `AA`", "docs.anthropic.com/en/api/getting-started", 3.5)
prefixed("google-api-key", "AIza", "[%s]{35}" % B64U, "`AIza` + 35 base64url (Gemini, Maps, Firebase keys share it)", "cloud.google.com/docs/authentication/api-keys", 3.0, kw=["aiza"])
prefixed("groq", "gsk_", "[%s]{52}" % B62, "`gsk_` + 52 base62", "console.groq.com/docs/api-keys")
prefixed("perplexity", "pplx-", "[%s]{40,56}" % B62, "`pplx-` + 48 base62", "docs.perplexity.ai/guides/getting-started")
prefixed("xai", "xai-", "[%s]{70,90}" % B62, "`xai-` + 80 base62", "docs.x.ai/docs/overview")
prefixed("openrouter", "sk-or-v1-", "[%s]{64}" % HEX, "`sk-or-v1-` + 64 hex", "openrouter.ai/docs/api-reference/authentication")
add("deepseek", LB + r"sk-[0-9a-f]{32}" + RB, ["sk-"], "`sk-` + 32 lowercase hex", "api-docs.deepseek.com", 3.0)
prefixed("replicate", "r8_", "[%s]{37}" % B62, "`r8_` + 37 base62", "replicate.com/docs/reference/http#authentication")
prefixed("together", "tgp_v1_", "[%s]{40,48}" % B64U, "`tgp_v1_` + 43 base64url", "docs.together.ai/reference/authentication-1")
prefixed("fireworks", "fw_", "[%s]{24}" % B62, "`fw_` + 24 base62", "docs.fireworks.ai/api-reference/introduction")
prefixed("huggingface", "hf_", "[A-Za-z]{34}", "`hf_` + 34 letters", "huggingface.co/docs/hub/security-tokens")
prefixed("huggingface-org", "api_org_", "[A-Za-z]{34}", "`api_org_` + 34 letters", "huggingface.co/docs/hub/security-tokens")
prefixed("cerebras", "csk-", "[%s]{48}" % B62, "`csk-` + 48 base62", "inference-docs.cerebras.ai/quickstart")
prefixed("nvidia-nim", "nvapi-", "[%s]{64}" % B64U, "`nvapi-` + 64 base64url", "docs.api.nvidia.com/nim/docs/api-quickstart")
prefixed("tavily", "tvly-", "(?:dev-|prod-)?[%s]{32}" % B62, "`tvly-` (`dev-`/`prod-`) + 32 base62", "docs.tavily.com/documentation/quickstart")
prefixed("firecrawl", "fc-", "[%s]{32}" % HEX, "`fc-` + 32 hex", "docs.firecrawl.dev/introduction")
prefixed("jina", "jina_", "[%s]{60}" % B64U, "`jina_` + 60 base64url", "jina.ai/api-dashboard")
prefixed("llamacloud", "llx-", "[%s]{48}" % B62, "`llx-` + 48 base62", "docs.cloud.llamaindex.ai/llamacloud/getting_started/api_key")
prefixed("pinecone", "pcsk_", "[%s]{40,80}" % B64U, "`pcsk_` + base62 with `_`", "docs.pinecone.io/guides/projects/manage-api-keys")
add("langsmith", LB + r"lsv2_(?:pt|sk)_[0-9a-f]{32}_[0-9a-f]{10}" + RB, ["lsv2_"], "`lsv2_pt_`/`lsv2_sk_` + 32 hex + `_` + 10 hex", "docs.smith.langchain.com/administration/how_to_guides/organization_management/create_account_api_key")
prefixed("voyage", "pa-", "[%s]{43}" % B64U, "`pa-` + 43 base64url", "docs.voyageai.com/docs/api-key-and-installation")
prefixed("elevenlabs", "sk_", "[%s]{48}" % HEX, "`sk_` + 48 hex", "elevenlabs.io/docs/api-reference/authentication")
add("helicone", LB + r"(?:sk|pk)-helicone-(?:eu-)?[a-z0-9]{7}-[a-z0-9]{7}-[a-z0-9]{7}-[a-z0-9]{7}" + RB, ["-helicone-"], "`sk-helicone-` + four groups of 7 base36", "docs.helicone.ai/getting-started/quick-start")
add("langfuse", LB + r"sk-lf-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}" + RB, ["sk-lf-"], "`sk-lf-` + UUID (the public half is `pk-lf-`)", "langfuse.com/docs/api", 0)
add("langfuse", LB + r"pk-lf-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}" + RB, ["pk-lf-"], None, None, 0)
contextual("mistral", "mistral", "[A-Za-z0-9]{32}", "32 base62 after a MISTRAL name", "docs.mistral.ai/getting-started/quickstart", kw=["mistral"])
contextual("cohere", "cohere|co_api", "[A-Za-z0-9]{40}", "40 base62 after a COHERE/CO_API name", "docs.cohere.com/reference/about", kw=["cohere", "co_api"])
contextual("azure-openai", r"azure[\w.-]{0,20}?(?:openai|oai|cognitive|ai)[\w.-]{0,10}?(?:key|secret)", "[0-9a-f]{32}|[A-Za-z0-9]{84}", "32 hex, or 84 base62 with the `JQQJ99` and `ACOG` markers, after an AZURE_OPENAI name", "learn.microsoft.com/azure/ai-services/openai/reference", kw=["azure"])
contextual("ai21", "ai21", "[A-Za-z0-9]{32}", "32 base62 after an AI21 name", "docs.ai21.com/reference/authentication", kw=["ai21"])
contextual("assemblyai", "assembly_?ai", "[0-9a-f]{32}", "32 hex after an ASSEMBLYAI name", "www.assemblyai.com/docs/getting-started", kw=["assemblyai", "assembly_ai"])
contextual("deepgram", "deepgram", "[0-9a-f]{40}", "40 hex after a DEEPGRAM name", "developers.deepgram.com/docs/authenticating", kw=["deepgram"])
contextual("wandb", r"wandb|weights_?and_?biases", "[0-9a-f]{40}|wandb_v1_[A-Za-z0-9_]{40,}", "40 hex (or `wandb_v1_`) after a WANDB name", "docs.wandb.ai/guides/track/environment-variables", kw=["wandb", "weights"])
contextual("stability", "stability|stable_?diffusion", "sk-[A-Za-z0-9]{48}", "`sk-` + 48 base62 after a STABILITY name", "platform.stability.ai/docs/getting-started/authentication", kw=["stabilit", "stable"])

# ---- Clouds ------------------------------------------------------------------
add("aws", r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}(?![A-Za-z0-9])", ["akia", "asia", "abia", "acca", "a3t"], "`AKIA`/`ASIA`/`ABIA`/`ACCA` + 16 base32", "docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html", 3.0)
add("aws-secret-key", r"(?i)(?<![a-z0-9])(?:aws|amazon)[\w.-]{0,20}?(?:secret|private)[\w.-]{0,20}?[\"']?\]?[ \t]*(?:[:=]|=>|:=|,)[ \t]*[\"']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])", ["aws", "amazon"], "40 base64 after an AWS ..SECRET.. name", "docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html", 4.0, "secret", 1)
add("aws-session-token", r"(?<![A-Za-z0-9/+])(?:FwoGZXIvYXdzE|IQoJb3JpZ2luX2Vj)[A-Za-z0-9/+=]{100,}", ["fwogzxivyxdze", "iqojb3jpz2lux2vj"], "base64 starting `IQoJb3JpZ2luX2Vj` or `FwoGZXIvYXdzE` (STS session tokens)", "docs.aws.amazon.com/STS/latest/APIReference/API_Credentials.html", 4.0)
add("aws-bedrock", LB + r"ABSKQmVkcm9ja0FQSUtleS[A-Za-z0-9+/]{40,}={0,2}", ["absk"], "`ABSK` + base64 of `BedrockAPIKey-...` (long-term Bedrock API key)", "docs.aws.amazon.com/bedrock/latest/userguide/api-keys.html", 4.0)
add("aws-bedrock", LB + r"bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/%=&]{40,}", ["bedrock-api-key-"], "`bedrock-api-key-` + base64 of `bedrock.amazonaws.com/...` (short-term key)", "docs.aws.amazon.com/bedrock/latest/userguide/api-keys.html", 4.0)
prefixed("gcp-oauth-client-secret", "GOCSPX-", "[%s]{28}" % B64U, "`GOCSPX-` + 28 base64url", "developers.google.com/identity/protocols/oauth2", kw=["gocspx-"])
prefixed("gcp-oauth-access-token", "ya29.", "[%s]{30,}" % B64U, "`ya29.` + base64url", "developers.google.com/identity/protocols/oauth2", kw=["ya29."])
add("gcp-oauth-refresh-token", r"(?<![\w/-])1//0[A-Za-z0-9_-]{40,}" + RB, ["1//0"], "`1//0` + base64url", "developers.google.com/identity/protocols/oauth2", 3.5)
add("gcp-service-account", r"(?s)\"private_key_id\"\s*:\s*\"([0-9a-f]{40})\"(?=.{0,400}?(?:service_account|iam\.gserviceaccount\.com))", ["private_key_id"], "service-account JSON: `private_key_id` 40 hex next to `service_account`", "cloud.google.com/iam/docs/keys-create-delete", 3.0, "token", 1)
add("gcp-service-account", r"(?s)(?<=service_account).{0,600}?\"private_key_id\"\s*:\s*\"([0-9a-f]{40})\"", ["service_account"], None, None, 3.0, "token", 1)
add("azure-storage-key", r"(?i)AccountKey=([A-Za-z0-9+/]{86}==)", ["accountkey="], "`AccountKey=` + 88 base64 in a connection string", "learn.microsoft.com/azure/storage/common/storage-configure-connection-string", 4.0, "token", 1)
add("azure-connection-string", r"(?i)SharedAccessKey=([A-Za-z0-9+/]{42,43}=)", ["sharedaccesskey="], "`SharedAccessKey=` + 44 base64 (Service Bus, Event Hubs, IoT Hub)", "learn.microsoft.com/azure/service-bus-messaging/service-bus-sas", 4.0, "token", 1)
add("azure-sas-token", r"(?i)[?&]sig=([A-Za-z0-9%+/]{40,}(?:%3D|=){0,2})(?=[&\s\"']|$)", ["sig="], "`sig=` + base64 (URL-encoded) in a `sv=`...`&sig=` SAS URL", "learn.microsoft.com/azure/storage/common/storage-sas-overview", 4.0, "token", 1)
add("azure-ad-client-secret", r"(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}[78]Q~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])", ["q~"], "3 chars + `8Q~` (or `7Q~`) + 31-34 chars", "learn.microsoft.com/entra/identity-platform/how-to-add-credentials", 3.5)
add("azure-devops-pat", r"(?i)(?<![a-z0-9])(?:azure[_-]?devops|ado|vsts|azdo)[\w.-]{0,20}?(?:pat|token)[\w.-]{0,10}?[\"']?[ \t]*(?:[:=]|=>)[ \t]*[\"']?([a-z2-7]{52}|[A-Za-z0-9]{84})(?![A-Za-z0-9])", ["azure", "ado", "vsts", "azdo"], "52 base32 (or 84 base62 with `AZDO`) after an AZURE_DEVOPS name", "learn.microsoft.com/azure/devops/organizations/accounts/use-personal-access-tokens-to-authenticate", 3.5, "secret", 1)
prefixed("alibaba-access-key", "LTAI", "[%s]{17,21}" % B62, "`LTAI` + 17-21 base62", "www.alibabacloud.com/help/en/ram/user-guide/create-an-accesskey-pair", kw=["ltai"], lb=r"(?<![A-Za-z0-9])", rb=r"(?![A-Za-z0-9])")
prefixed("tencent-secret-id", "AKID", "[%s]{32}" % B62, "`AKID` + 32 base62", "www.tencentcloud.com/document/product/598/32675", kw=["akid"], lb=r"(?<![A-Za-z0-9])", rb=r"(?![A-Za-z0-9])")
prefixed("digitalocean-pat", "dop_v1_", "[%s]{64}" % HEX, "`dop_v1_` + 64 hex", "docs.digitalocean.com/reference/api/create-personal-access-token")
prefixed("digitalocean-oauth", "doo_v1_", "[%s]{64}" % HEX, "`doo_v1_` + 64 hex", "docs.digitalocean.com/reference/api/oauth-api")
prefixed("digitalocean-refresh", "dor_v1_", "[%s]{64}" % HEX, "`dor_v1_` + 64 hex", "docs.digitalocean.com/reference/api/oauth-api")
prefixed("heroku", "HRKU-AA", "[%s]{58}" % B64U, "`HRKU-AA` + 58 base64url", "devcenter.heroku.com/articles/authentication", kw=["hrku-"])
contextual("heroku-legacy", "heroku", "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID after a HEROKU ..KEY name", "devcenter.heroku.com/articles/authentication", kw=["heroku"])
contextual("cloudflare-api-token", "cloudflare|cf_api", "[A-Za-z0-9_-]{40}", "40 base64url after a CLOUDFLARE name", "developers.cloudflare.com/fundamentals/api/get-started/create-token", kw=["cloudflare", "cf_api"])
prefixed("cloudflare-origin-ca", "v1.0-", "[%s]{24}-[%s]{146}" % (HEX, HEX), "`v1.0-` + 24 hex + `-` + 146 hex", "developers.cloudflare.com/ssl/origin-configuration/origin-ca", kw=["v1.0-"])
add("vercel", LB + r"(?:vcp|vci|vca|vcr|vck)_[A-Za-z0-9]{56}" + RB, ["vcp_", "vci_", "vca_", "vcr_", "vck_"], "`vcp_`/`vci_`/`vca_`/`vcr_`/`vck_` + 56 base62", "vercel.com/docs/rest-api#authentication")
prefixed("netlify", "nfp_", "[%s]{36}" % B62, "`nfp_` + 36 base62", "docs.netlify.com/api/get-started/#authentication")
add("flyio", LB + r"FlyV1 fm[12][ar]?_[A-Za-z0-9+/=_,-]{60,}", ["flyv1 fm"], "`FlyV1 fm2_` + base64 macaroon", "fly.io/docs/security/tokens", 4.0)
prefixed("render", "rnd_", "[%s]{32}" % B62, "`rnd_` + 32 base62", "render.com/docs/api#authentication")
prefixed("supabase-pat", "sbp_", "[%s]{40}" % HEX, "`sbp_` + 40 hex", "supabase.com/docs/reference/api/introduction")
prefixed("supabase-secret", "sb_secret_", "[%s]{31,}" % B64U, "`sb_secret_` + base64url", "supabase.com/docs/guides/api/api-keys")
add("planetscale", LB + r"pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_.=-]{32,64}" + RB, ["pscale_"], "`pscale_tkn_`/`pscale_pw_`/`pscale_oauth_` + 32-64 base64url", "planetscale.com/docs/concepts/service-tokens")
prefixed("neon", "napi_", "[%s]{64}" % "a-z0-9", "`napi_` + 64 base36", "neon.tech/docs/manage/api-keys")
add("doppler", LB + r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}" + RB, ["dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."], "`dp.pt.`/`dp.st.`/`dp.sa.`/`dp.ct.` + 43 base62", "docs.doppler.com/reference/api#authentication")
add("vault-token", LB + r"hv[sbr]\.[A-Za-z0-9_-]{24,}" + RB, ["hvs.", "hvb.", "hvr."], "`hvs.`/`hvb.`/`hvr.` + base64url (Vault 1.10+)", "developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes", 3.5)
add("terraform-cloud", LB + r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}" + RB, [".atlasv1."], "14 base62 + `.atlasv1.` + 67 base64url", "developer.hashicorp.com/terraform/cloud-docs/users-teams-organizations/api-tokens")
prefixed("pulumi", "pul-", "[%s]{40}" % HEX, "`pul-` + 40 hex", "www.pulumi.com/docs/pulumi-cloud/access-management/access-tokens")
prefixed("grafana-cloud-token", "glc_", "[%s]{32,400}={0,2}" % B62.replace("0-9", "0-9+/"), "`glc_` + base64", "grafana.com/docs/grafana-cloud/account-management/authentication-and-permissions/access-policies")
add("grafana-service-account", LB + r"glsa_[A-Za-z0-9]{32}_[0-9a-f]{8}" + RB, ["glsa_"], "`glsa_` + 32 base62 + `_` + 8 hex", "grafana.com/docs/grafana/latest/administration/service-accounts")
add("newrelic", LB + r"(?:NRAK|NRII|NRJS|NRAA|NRRA)-[A-Za-z0-9]{19,32}" + RB, ["nrak-", "nrii-", "nrjs-", "nraa-", "nrra-"], "`NRAK-` (user), `NRII-` (insert), `NRJS-`, `NRAA-`, `NRRA-` + 27 base62", "docs.newrelic.com/docs/apis/intro-apis/new-relic-api-keys")
contextual("datadog", r"datadog|dd_api|dd_app|dd[_-]?(?:api|app|application)", "[0-9a-f]{32}|[0-9a-f]{40}", "32 hex (API key) or 40 hex (application key) after a DATADOG/DD_API name", "docs.datadoghq.com/account_management/api-app-keys", kw=["datadog", "dd_", "dd-"])
add("sentry", LB + r"sntry[su]_[A-Za-z0-9+/=_]{40,}" + RB, ["sntrys_", "sntryu_"], "`sntrys_` (org auth token, base64 JSON) / `sntryu_` + 64 hex (user token)", "docs.sentry.io/account/auth-tokens", 3.5)
add("sentry-dsn", r"https?://([0-9a-f]{32})@[a-z0-9.-]*sentry\.io/\d+", ["sentry.io"], "`https://<32 hex>@...sentry.io/<id>` (DSN key; public by design, flagged as low-risk config)", "docs.sentry.io/concepts/key-terms/dsn-explainer", 3.0, "token", 1)
add("postman", LB + r"PMAK-[0-9a-f]{24}-[0-9a-f]{34}" + RB, ["pmak-"], "`PMAK-` + 24 hex + `-` + 34 hex", "learning.postman.com/docs/developer/postman-api/authentication")
add("dynatrace", LB + r"dt0[a-z]\d{2}\.[A-Z0-9]{24}\.[A-Z0-9]{64}" + RB, ["dt0"], "`dt0c01.` + 24 base32 + `.` + 64 base32", "docs.dynatrace.com/docs/dynatrace-api/basics/dynatrace-api-authentication")
add("sonarqube", LB + r"sq[pau]_[0-9a-f]{40}" + RB, ["sqp_", "sqa_", "squ_"], "`sqp_`/`sqa_`/`squ_` + 40 hex", "docs.sonarsource.com/sonarqube-server/latest/user-guide/managing-tokens")
prefixed("figma", "figd_", "[%s]{40,}" % B64U, "`figd_` + base64url", "www.figma.com/developers/api#access-tokens")
add("airtable", LB + r"pat[A-Za-z0-9]{14}\.[0-9a-f]{64}" + RB, ["pat"], "`pat` + 14 base62 + `.` + 64 hex", "airtable.com/developers/web/guides/personal-access-tokens")
prefixed("typeform", "tfp_", "[%s]{59}" % B64U.replace("_-", "_.-"), "`tfp_` + 59 base64url", "www.typeform.com/developers/get-started/personal-access-token")
prefixed("contentful", "CFPAT-", "[%s]{43}" % B64U, "`CFPAT-` + 43 base64url", "www.contentful.com/developers/docs/references/authentication", kw=["cfpat-"])
add("mapbox", LB + r"sk\.eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}" + RB, ["sk.eyj"], "`sk.eyJ` + base64url JWT-like (secret; `pk.` tokens are public)", "docs.mapbox.com/accounts/guides/tokens")
contextual("okta", "okta", "00[A-Za-z0-9_-]{40}", "`00` + 40 base64url after an OKTA name", "developer.okta.com/docs/guides/create-an-api-token", kw=["okta"])
contextual("auth0", "auth0", "[A-Za-z0-9_-]{64}", "64 base64url client secret after an AUTH0 name", "auth0.com/docs/get-started/applications/application-settings", kw=["auth0"])
add("twitter-bearer", r"(?<![A-Za-z0-9%])A{22}([A-Za-z0-9%]{80,120})(?![A-Za-z0-9%])", ["aaaaaaaaaaaaaaaaaaaaaa"], "22 `A` + 80-120 base62/`%` (app-only bearer token)", "developer.x.com/en/docs/authentication/oauth-2-0/bearer-tokens", 4.0, "token", 1)
add("facebook-access-token", LB + r"EAA[A-Za-z0-9]{100,}" + RB, ["eaa"], "`EAA` + 100+ base62 (Graph API user/page token)", "developers.facebook.com/docs/facebook-login/guides/access-tokens", 4.0)
prefixed("dropbox", "sl.", "[%s]{130,}" % B64U.replace("_-", "_.-"), "`sl.` + 130+ base64url (short-lived token; `sl.u.` too)", "developers.dropbox.com/oauth-guide", kw=["sl."], entropy=4.0)
add("hubspot", LB + r"pat-(?:na|eu|ap)\d-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}" + RB, ["pat-na", "pat-eu", "pat-ap"], "`pat-na1-`/`pat-eu1-` + UUID (private app token)", "developers.hubspot.com/docs/api/private-apps")
prefixed("klaviyo", "pk_", "[%s]{34}" % HEX, "`pk_` + 34 hex (private API key)", "developers.klaviyo.com/en/docs/authenticate_")
add("plaid", LB + r"access-(?:sandbox|development|production)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}" + RB, ["access-sandbox-", "access-development-", "access-production-"], "`access-production-` (or sandbox/development) + UUID", "plaid.com/docs/api/tokens")
add("flutterwave", LB + r"FLWSECK(?:_TEST)?-[0-9a-f]{32}-X" + RB, ["flwseck"], "`FLWSECK-` (`FLWSECK_TEST-`) + 32 hex + `-X`", "developer.flutterwave.com/docs/integration-guides/authentication")
prefixed("razorpay", "rzp_live_", "[%s]{14}" % B62, "`rzp_live_` + 14 base62 (key id; the secret goes with it)", "razorpay.com/docs/api/authentication")
add("paystack", LB + r"sk_(?:live|test)_[0-9a-f]{40}" + RB, ["sk_live_", "sk_test_"], "`sk_live_` + 40 hex", "paystack.com/docs/api/authentication")
add("shippo", LB + r"shippo_(?:live|test)_[0-9a-f]{40}" + RB, ["shippo_"], "`shippo_live_` + 40 hex", "docs.goshippo.com/docs/guides_general/authentication")
add("easypost", LB + r"EZ[AT]K[A-Za-z0-9]{54}" + RB, ["ezak", "eztk"], "`EZAK`/`EZTK` + 54 base62", "docs.easypost.com/docs/authentication")
add("onepassword-service-account", LB + r"ops_eyJ[A-Za-z0-9+/=_-]{100,}" + RB, ["ops_eyj"], "`ops_eyJ` + base64 JSON", "developer.1password.com/docs/service-accounts", 4.0)
prefixed("infracost", "ico-", "[%s]{32}" % B62, "`ico-` + 32 base62", "www.infracost.io/docs/integrations/environment_variables")
prefixed("prefect", "pnu_", "[%s]{36}" % B62, "`pnu_` + 36 base62", "docs.prefect.io/v3/manage/cloud/manage-users/api-keys")
prefixed("readme", "rdme_", "[%s]{70}" % "a-z0-9", "`rdme_` + 70 base36", "docs.readme.com/main/reference/intro/authentication")
prefixed("rubygems", "rubygems_", "[%s]{48}" % HEX, "`rubygems_` + 48 hex", "guides.rubygems.org/api-key-scopes")
prefixed("clojars", "CLOJARS_", "[%s]{60}" % "a-z0-9", "`CLOJARS_` + 60 base36", "github.com/clojars/clojars-web/wiki/Deploy-Tokens", kw=["clojars_"])
add("nuget", LB + r"oy2[a-z0-9]{43}" + RB, ["oy2"], "`oy2` + 43 base36", "learn.microsoft.com/nuget/nuget-org/publish-a-package#create-an-api-key")
prefixed("docker-hub-pat", "dckr_pat_", "[%s]{27}" % B64U, "`dckr_pat_` + 27 base64url", "docs.docker.com/security/for-developers/access-tokens")
add("artifactory", LB + r"(?:AKCp[A-Za-z0-9]{69}|cmVmdGtuOjAxOj[A-Za-z0-9]{50,})" + RB, ["akcp", "cmvmdgtuojaxoj"], "`AKCp` + 69 base62 (API key) or `cmVmdGtuOjAxOj` (base64 `reftkn:01:`) identity token", "jfrog.com/help/r/jfrog-platform-administration-documentation/access-tokens")
add("circleci", LB + r"CCIPAT_[A-Za-z0-9]{22}_[0-9a-f]{40}" + RB, ["ccipat_"], "`CCIPAT_` + 22 base62 + `_` + 40 hex", "circleci.com/docs/managing-api-tokens")
prefixed("buildkite", "bkua_", "[%s]{40}" % HEX, "`bkua_` + 40 hex", "buildkite.com/docs/apis/managing-api-tokens")
add("harness", LB + r"pat\.[A-Za-z0-9_-]{22}\.[0-9a-f]{24}\.[A-Za-z0-9]{20}" + RB, ["pat."], "`pat.` + 22 + `.` + 24 hex + `.` + 20", "developer.harness.io/docs/platform/automation/api/add-and-manage-api-keys")
add("sourcegraph", LB + r"sgp_(?:local_|[0-9a-f]{16}_)?[0-9a-f]{40}" + RB, ["sgp_"], "`sgp_` (+ 16 hex `_`) + 40 hex", "sourcegraph.com/docs/cli/how-tos/creating_an_access_token")
prefixed("frameio", "fio-u-", "[%s]{64}" % B64U, "`fio-u-` + 64 base64url", "developer.frame.io/docs/getting-started/authentication")
add("duffel", LB + r"duffel_(?:test|live)_[A-Za-z0-9_-]{43}" + RB, ["duffel_"], "`duffel_live_` + 43 base64url", "duffel.com/docs/api/overview/making-requests/authentication")
prefixed("adafruit-io", "aio_", "[%s]{28}" % B62, "`aio_` + 28 base62", "io.adafruit.com/api/docs/#authentication")
add("age-secret-key", r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}", ["age-secret-key-1"], "`AGE-SECRET-KEY-1` + 58 bech32", "age-encryption.org/v1")
add("putty-private-key", r"PuTTY-User-Key-File-[23]: [\w-]+\r?\nEncryption: [\w-]+\r?\nComment: [^\r\n]*\r?\nPublic-Lines: \d+", ["putty-user-key-file"], "`PuTTY-User-Key-File-2/3:` header", "the.earth.li/~sgtatham/putty/0.78/htmldoc/AppendixC.html", 0)
prefixed("brevo", "xkeysib-", "[%s]{64}-[%s]{16}" % (HEX, B62), "`xkeysib-` + 64 hex + `-` + 16 base62", "developers.brevo.com/docs/getting-started")
prefixed("mandrill", "md-", "[%s]{22}" % B64U, "`md-` + 22 base64url", "mailchimp.com/developer/transactional/guides/quick-start", kw=["md-"])
add("resend", LB + r"re_[A-Za-z0-9]{8}_[A-Za-z0-9]{24}" + RB, ["re_"], "`re_` + 8 + `_` + 24 base62", "resend.com/docs/dashboard/api-keys/introduction")
contextual("postmark", "postmark", "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID server token after a POSTMARK name", "postmarkapp.com/developer/api/overview#authentication", kw=["postmark"])
contextual("snyk", "snyk", "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID after a SNYK name", "docs.snyk.io/snyk-api/authentication-for-api", kw=["snyk"])
contextual("pagerduty", "pagerduty|pd_api", "[A-Za-z0-9_+-]{20}", "20 base64url after a PAGERDUTY name", "support.pagerduty.com/main/docs/api-access-keys", kw=["pagerduty", "pd_api"])
contextual("algolia-admin", r"algolia[\w.-]{0,10}?(?:admin|write|api)", "[0-9a-f]{32}", "32 hex after an ALGOLIA_ADMIN/API name", "www.algolia.com/doc/guides/security/api-keys", kw=["algolia"])
contextual("twitch", "twitch", "[a-z0-9]{30}", "30 base36 after a TWITCH name", "dev.twitch.tv/docs/authentication", kw=["twitch"])
contextual("zendesk", "zendesk", "[A-Za-z0-9]{40}", "40 base62 after a ZENDESK name", "developer.zendesk.com/api-reference/introduction/security-and-auth", kw=["zendesk"])
contextual("intercom", "intercom", "dG9rOj[A-Za-z0-9+/=]{40,}", "`dG9rOj` (base64 `tok:`) after an INTERCOM name", "developers.intercom.com/docs/build-an-integration/learn-more/authentication", kw=["intercom"])
contextual("serpapi", "serp_?api", "[0-9a-f]{64}", "64 hex after a SERPAPI name", "serpapi.com/search-api", kw=["serp"])
contextual("twilio-auth-token", "twilio", "[0-9a-f]{32}", "32 hex after a TWILIO ..TOKEN name", "www.twilio.com/docs/iam/api-keys", kw=["twilio"])
contextual("vonage", "vonage|nexmo", "[A-Za-z0-9]{16}", "16 base62 API secret after a VONAGE/NEXMO name", "developer.vonage.com/en/getting-started/concepts/authentication", kw=["vonage", "nexmo"])
contextual("fastly", "fastly", "[A-Za-z0-9_-]{32}", "32 base64url after a FASTLY name", "docs.fastly.com/en/guides/using-api-tokens", kw=["fastly"])
contextual("railway", "railway", "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID after a RAILWAY ..TOKEN name", "docs.railway.com/guides/public-api", kw=["railway"])
contextual("mailgun-webhook", r"mailgun[\w.-]{0,10}?(?:webhook|signing)", "[0-9a-f]{32}", "32 hex after a MAILGUN_WEBHOOK/SIGNING name", "documentation.mailgun.com/docs/mailgun/user-manual/tracking-messages/#securing-webhooks", kw=["mailgun"])
contextual("github-app-secret", r"github[\w.-]{0,20}?(?:client|app|oauth)[\w.-]{0,10}?secret", "[0-9a-f]{40}", "40 hex after a GITHUB_CLIENT_SECRET name (OAuth/GitHub App client secret)", "docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app", kw=["github"])
contextual("github-webhook-secret", r"github[\w.-]{0,20}?webhook[\w.-]{0,10}?secret", "[A-Za-z0-9_+/=-]{16,}", "after a GITHUB_WEBHOOK_SECRET name", "docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries", kw=["github"])
contextual("github-classic-token", r"github|gh_?token|gh_?pat", "[0-9a-f]{40}", "40 hex after a GITHUB ..TOKEN name (pre-2021 tokens)", "github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats", kw=["github", "gh_", "ghtoken", "ghpat"])

# ---- Code hosting, packages ----------------------------------------------------
for p, what in (("ghp", "personal access token"), ("gho", "OAuth token"), ("ghu", "user-to-server token"),
                ("ghs", "server-to-server (app installation) token"), ("ghr", "refresh token")):
    add("github", r"(?<![A-Za-z0-9_])%s_[A-Za-z0-9]{36}(?![A-Za-z0-9_])" % p, [p + "_"],
        "`%s_` + 36 base62 (%s; last 6 a CRC32)" % (p, what) if p == "ghp" else None,
        "github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats" if p == "ghp" else None, 3.0)
add("github-fine-grained", r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}(?![A-Za-z0-9_])", ["github_pat_"], "`github_pat_` + 22 + `_` + 59 base62", "docs.github.com/en/authentication/keeping-your-account-and-data-secure/managing-your-personal-access-tokens", 3.0)
GITLAB = [
    ("gitlab-pat", "glpat-", "[%s]{20,}(?:\\.[0-9a-z]{2}\\.[0-9a-z]{6,12})?" % B64U, "personal/project/group access token: `glpat-` + 20+ base64url (newer: + `.01.` + routing part; an instance prefix such as `SIE-glpat-` allowed)"),
    ("gitlab-deploy-token", "gldt-", "[%s]{20,}" % B64U, "deploy token `gldt-`"),
    ("gitlab-runner-token", "glrt-", "[%s]{20,}" % B64U.replace("_-", "_.-"), "runner authentication token `glrt-`"),
    ("gitlab-ci-job-token", "glcbt-", "[0-9a-fA-F]{1,5}_[%s]{20,}" % B64U, "CI/CD job token `glcbt-`"),
    ("gitlab-trigger-token", "glptt-", "[%s]{40}" % HEXU, "pipeline trigger token `glptt-` + 40 hex"),
    ("gitlab-feed-token", "glft-", "[%s]{20,}" % B64U, "feed token `glft-`"),
    ("gitlab-incoming-mail-token", "glimt-", "[%s]{25}" % B64U, "incoming mail token `glimt-`"),
    ("gitlab-agent-token", "glagent-", "[%s]{50,}" % B64U, "agent for Kubernetes token `glagent-`"),
    ("gitlab-scim-token", "glsoat-", "[%s]{20,}" % B64U, "SCIM OAuth token `glsoat-`"),
    ("gitlab-oauth-secret", "gloas-", "[%s]{64}" % B64U, "OAuth application secret `gloas-`"),
    ("gitlab-feature-flag-token", "glffct-", "[%s]{20,}" % B64U, "feature flags client token `glffct-`"),
    ("gitlab-workspace-token", "glwt-", "[%s]{20,}" % B64U, "workspace token `glwt-`"),
]
for name, pre, body, facts in GITLAB:
    # not after a letter or digit, but after '-': instances may prefix their own name (SIE-glpat-)
    prefixed(name, pre, body, facts, "docs.gitlab.com/ee/security/tokens/#token-prefixes", lb=r"(?<![A-Za-z0-9_])")
prefixed("gitlab-runner-registration", "GR1348941", "[%s]{20,}" % B64U, "legacy runner registration token `GR1348941` + 20 base64url", "docs.gitlab.com/ee/security/tokens/#token-prefixes", kw=["gr1348941"])
prefixed("bitbucket-app-password", "ATBB", "[%s]{32}" % B62, "`ATBB` + 32 base62", "support.atlassian.com/bitbucket-cloud/docs/app-passwords", kw=["atbb"], lb=r"(?<![A-Za-z0-9])")
prefixed("atlassian-api-token", "ATATT3", "[%s]{180,}={0,2}" % B64U, "`ATATT3` + ~186 base64url (Jira, Confluence)", "support.atlassian.com/atlassian-account/docs/manage-api-tokens-for-your-atlassian-account", kw=["atatt3"])
prefixed("atlassian-access-token", "ATCTT3", "[%s]{180,}={0,2}" % B64U, "`ATCTT3` + base64url (repository/project access tokens)", "support.atlassian.com/bitbucket-cloud/docs/access-tokens", kw=["atctt3"])
prefixed("npm", "npm_", "[%s]{36}" % B62, "`npm_` + 36 base62 (last 6 a CRC32)", "docs.npmjs.com/about-access-tokens")
add("pypi", LB + r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}", ["pypi-ageichlwas5vcmc"], "`pypi-AgEIcHlwaS5vcmc` (macaroon naming pypi.org) + base64url", "pypi.org/help/#apitoken", 3.5)
add("pypi-test", LB + r"pypi-AgENdGVzdC5weXBpLm9yZw[A-Za-z0-9_-]{50,}", ["pypi-agendgvzdc5wexbplm9yzw"], "`pypi-AgENdGVzdC5weXBpLm9yZw` (test.pypi.org) + base64url", "test.pypi.org/help/#apitoken", 3.5)
add("linear", LB + r"lin_(?:api|oauth)_[A-Za-z0-9]{40,64}" + RB, ["lin_api_", "lin_oauth_"], "`lin_api_` + 40 base62 (`lin_oauth_` 64)", "linear.app/developers/graphql#authentication")
add("notion", LB + r"(?:secret_[A-Za-z0-9]{43}|ntn_[0-9]{11}[A-Za-z0-9]{35})" + RB, ["secret_", "ntn_"], "`ntn_` + 11 digits + 35 base62; legacy `secret_` + 43 base62", "developers.notion.com/docs/authorization")

# ---- Chat and messaging --------------------------------------------------------
SLACK = [
    ("slack-bot-token", "xoxb-", r"\d{1,13}-\d{1,13}-[A-Za-z0-9]{20,32}", "bot token `xoxb-` + team id + bot id + 24 base62"),
    ("slack-user-token", "xoxp-", r"\d{1,13}-\d{1,13}-\d{1,13}-[0-9a-f]{28,64}", "user token `xoxp-` + three ids + 32 hex"),
    ("slack-workspace-token", "xoxa-", r"(?:2-)?\d{1,13}-\d{1,13}-\d{1,13}-[0-9a-f]{28,64}", "workspace app token `xoxa-`/`xoxa-2-`"),
    ("slack-refresh-token", "xoxr-", r"(?:\d{1,13}-){1,3}[A-Za-z0-9]{20,64}", "refresh token `xoxr-`"),
    ("slack-session-token", "xoxs-", r"(?:\d{1,13}-){1,4}[A-Za-z0-9]{20,64}", "legacy session token `xoxs-`"),
    ("slack-legacy-token", "xoxo-", r"(?:\d{1,13}-){1,4}[A-Za-z0-9]{20,64}", "legacy `xoxo-` token"),
    ("slack-client-token", "xoxc-", r"(?:\d{1,13}-){3}[0-9a-f]{32,64}", "client token `xoxc-`"),
    ("slack-cookie-token", "xoxd-", r"[A-Za-z0-9%/+=]{40,}", "browser cookie token `xoxd-`"),
    ("slack-app-token", "xapp-", r"\d-[A-Z0-9]{9,11}-\d{10,13}-[0-9a-f]{64}", "app-level token `xapp-1-A...-...-64 hex`"),
    ("slack-config-token", "xoxe.xox", r"[bp]-\d-[A-Za-z0-9]{100,200}", "configuration (rotating) access token `xoxe.xoxp-1-` / `xoxe.xoxb-1-`"),
    ("slack-config-refresh-token", "xoxe-", r"\d-[A-Za-z0-9]{100,200}", "configuration refresh token `xoxe-1-`"),
]
for name, pre, body, facts in SLACK:
    prefixed(name, pre, body, facts, "api.slack.com/concepts/token-types", kw=[pre])
add("slack-webhook", r"https?://hooks\.slack(?:-gov)?\.com/services/T[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/[A-Za-z0-9]{20,32}", ["hooks.slack"], "`https://hooks.slack.com/services/T.../B.../` + 24 base62 (http too)", "api.slack.com/messaging/webhooks", 3.0)
add("slack-workflow-webhook", r"https?://hooks\.slack(?:-gov)?\.com/(?:workflows|triggers)/T[A-Z0-9]{6,12}/[A-Z0-9]{6,12}/\d{6,20}/[A-Za-z0-9]{20,32}", ["hooks.slack"], "`https://hooks.slack.com/workflows/T.../A.../<id>/` + 24 base62, and `/triggers/`", "slack.com/help/articles/360041352714", 3.0)
add("discord-bot-token", r"(?<![A-Za-z0-9_.-])[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}(?![A-Za-z0-9_.-])", ["discord", "bot"], "base64 user id (`M`/`N`/`O`...) + `.` + 6 + `.` + 27-38 base64url", "discord.com/developers/docs/reference#authentication", 4.0)
add("discord-webhook", r"https://(?:(?:canary|ptb)\.)?discord(?:app)?\.com/api/webhooks/\d{17,20}/[A-Za-z0-9_-]{60,70}", ["discord"], "`https://discord.com/api/webhooks/<id>/` + 68 base64url", "discord.com/developers/docs/resources/webhook", 3.5)
add("telegram-bot-token", r"(?<![\w:/])\d{8,10}:AA[A-Za-z0-9_-]{33}(?![\w-])", [":aa"], "bot id (8-10 digits) + `:AA` + 33 base64url", "core.telegram.org/bots/api#authorizing-your-bot", 3.0)
add("teams-webhook", r"https://[a-z0-9-]+\.webhook\.office\.com/webhookb2/[0-9a-f-]{36}@[0-9a-f-]{36}/IncomingWebhook/[0-9a-f]{32}/[0-9a-f-]{36}(?:/[A-Za-z0-9_-]{20,})?", ["webhook.office.com"], "`https://<tenant>.webhook.office.com/webhookb2/<uuid>@<uuid>/IncomingWebhook/<32 hex>/<uuid>`", "learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook", 3.0)
add("google-chat-webhook", r"https://chat\.googleapis\.com/v1/spaces/[A-Za-z0-9_-]{11}/messages\?key=[A-Za-z0-9_-]{39}&token=([A-Za-z0-9_%=-]{40,})", ["chat.googleapis.com"], "`chat.googleapis.com/v1/spaces/.../messages?key=...&token=...`", "developers.google.com/workspace/chat/quickstart/webhooks", 3.0, "token", 1)
add("mattermost-webhook", r"https?://[\w.-]+/hooks/([a-z0-9]{26})(?![a-z0-9])", ["/hooks/"], "`https://<host>/hooks/` + 26 base36", "developers.mattermost.com/integrate/webhooks/incoming", 3.5, "token", 1)

# ---- Payments, commerce, email -------------------------------------------------
add("stripe-secret-key", LB + r"sk_(?:live|test)_(?:51)?[A-Za-z0-9]{24,247}" + RB, ["sk_live_", "sk_test_"], "`sk_live_`/`sk_test_` + 24-99 base62 (`pk_` publishable keys are public: not flagged)", "docs.stripe.com/keys", 3.5)
add("stripe-restricted-key", LB + r"rk_(?:live|test)_[A-Za-z0-9]{24,247}" + RB, ["rk_live_", "rk_test_"], "`rk_live_`/`rk_test_` + base62", "docs.stripe.com/keys#limit-access", 3.5)
prefixed("stripe-webhook-secret", "whsec_", "[%s]{32,}" % B64.replace("+/", "+/="), "`whsec_` + 32+ base64", "docs.stripe.com/webhooks#verify-events")
add("square", LB + r"(?:EAAA[A-Za-z0-9_-]{60}|sq0atp-[A-Za-z0-9_-]{22}|sq0csp-[A-Za-z0-9_-]{43})" + RB, ["eaaa", "sq0atp-", "sq0csp-"], "`EAAA` + 60 base64url (access token); legacy `sq0atp-` + 22; OAuth secret `sq0csp-` + 43", "developer.squareup.com/docs/build-basics/access-tokens", 3.5)
add("braintree", r"access_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32}", ["access_token$"], "`access_token$production$` + 16 + `$` + 32 hex", "developer.paypal.com/braintree/docs/guides/authorization/access-token", 3.0)
contextual("paypal-client-secret", r"paypal[\w.-]{0,10}?(?:client)?[\w.-]{0,5}?secret", "E[A-Za-z0-9_-]{79}", "80 base64url starting `E` after a PAYPAL_SECRET name", "developer.paypal.com/api/rest/authentication", kw=["paypal"])
for pre, what in (("shpat_", "admin API access token"), ("shpca_", "custom app access token"), ("shppa_", "private app access token"), ("shpss_", "shared secret")):
    add("shopify", LB + re.escape(pre).replace("\\_", "_") + "[0-9a-fA-F]{32}" + RB, [pre], "`%s` + 32 hex (%s)" % (pre, what) if pre == "shpat_" else None,
        "shopify.dev/docs/apps/build/authentication-authorization/access-tokens" if pre == "shpat_" else None)
add("twilio-api-key", r"(?<![A-Za-z0-9])SK[0-9a-f]{32}(?![A-Za-z0-9])", ["=SK" + c for c in "0123456789abcdef"], "`SK` + 32 hex (API key SID; its secret goes with it)", "www.twilio.com/docs/iam/api-keys", 3.0)
add("sendgrid", LB + r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}" + RB, ["sg."], "`SG.` + 22 + `.` + 43 base64url", "www.twilio.com/docs/sendgrid/ui/account-and-settings/api-keys", 3.5)
add("mailgun", LB + r"key-[0-9a-f]{32}" + RB, ["key-"], "`key-` + 32 hex (legacy); 32 hex + `-` + 8 hex + `-` + 8 hex after a MAILGUN name", "documentation.mailgun.com/docs/mailgun/api-reference/authentication", 3.0)
contextual("mailgun", "mailgun", "[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8}", None, None, kw=["mailgun"])
add("mailchimp", r"(?<![A-Za-z0-9])[0-9a-f]{32}-us\d{1,2}(?![A-Za-z0-9])", ["-us"], "32 hex + `-us` + datacenter number", "mailchimp.com/developer/marketing/guides/quick-start/#generate-your-api-key", 3.0)
add("databricks", LB + r"dapi[0-9a-f]{32}(?:-\d)?" + RB, ["dapi"], "`dapi` + 32 hex (`-2` suffix on Azure)", "docs.databricks.com/en/dev-tools/auth/pat.html", 3.0)
add("databricks-oauth-secret", LB + r"dose[0-9a-f]{32}" + RB, ["dose"], "`dose` + 32 hex (service principal OAuth secret)", "docs.databricks.com/en/dev-tools/auth/oauth-m2m.html", 3.0)
contextual("lob", r"lob[\w.-]{0,10}?(?:key|secret)", "(?:live|test)_[0-9a-f]{35}", "`live_`/`test_` + 35 hex after a LOB name", "docs.lob.com/#tag/Authentication", kw=["lob"])

# ---- URIs with credentials ---------------------------------------------------------
PW = r"([^\s:/?#@\"'<>\[\]{}]{3,128})"
for name, schemes, facts in (
    ("postgres-uri", "postgres(?:ql)?(?:\\+\\w+)?", "`postgres://user:PASSWORD@host` (also `postgresql+psycopg2://`)"),
    ("mysql-uri", "mysql(?:\\+\\w+)?|mariadb", "`mysql://user:PASSWORD@host`"),
    ("mongodb-uri", "mongodb(?:\\+srv)?", "`mongodb+srv://user:PASSWORD@host`"),
    ("redis-uri", "rediss?", "`redis://:PASSWORD@host` / `rediss://user:PASSWORD@host`"),
    ("amqp-uri", "amqps?", "`amqp://user:PASSWORD@host` (RabbitMQ)"),
    ("mssql-uri", "mssql(?:\\+\\w+)?|sqlserver", "`mssql://user:PASSWORD@host`"),
    ("kafka-uri", "kafka|nats|mqtts?", "`kafka://`/`nats://`/`mqtt://` user:PASSWORD@host"),
    ("clickhouse-uri", "clickhouse(?:\\+\\w+)?", "`clickhouse://user:PASSWORD@host`"),
):
    add(name, r"(?i)(?<![a-z0-9+.-])(?:%s)://[^\s:/?#@\"'<>]{0,64}:%s@[\w.-]+" % (schemes, PW),
        [s for s in ("postgres", "mysql", "mariadb", "mongodb", "redis", "amqp", "mssql", "sqlserver", "kafka", "nats", "mqtt", "clickhouse") if s in schemes],
        facts + " (RFC 3986 userinfo)", "www.rfc-editor.org/rfc/rfc3986#section-3.2.1", 0, "password", 1)
add("jdbc-password", r"(?i)jdbc:[a-z0-9]+:[^\s\"']*?[;?&]password=([^\s;&\"']{3,128})", ["jdbc:"], "`jdbc:...;password=...` / `?password=`", "docs.oracle.com/javase/8/docs/api/java/sql/DriverManager.html", 0, "password", 1)
add("basic-auth-url", r"(?i)(?<![a-z0-9+.-])(?:https?|ftps?|sftp|ssh|smtps?|imaps?|ldaps?|git|svn)://[^\s:/?#@\"'<>]{1,64}:%s@[\w.-]+" % PW, ["://"], "`https://user:PASSWORD@host` (HTTP basic auth, FTP, SMTP, LDAP...)", "www.rfc-editor.org/rfc/rfc3986#section-3.2.1", 0, "password", 1)

# ---- Keys and tokens of any provider ---------------------------------------------------
add("pem", r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[A-Za-z0-9+/=\s\\:,.-]{64,}?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----", ["private key"], "`-----BEGIN ... PRIVATE KEY-----` block (RSA, EC, DSA, OpenSSH, PKCS#8, encrypted, PGP)", "www.rfc-editor.org/rfc/rfc7468", 4.5, "none")
add("jwt", r"(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.(?:[A-Za-z0-9_-]{16,}(?![\w-])|(?![\w.-]))", ["eyj"], "`eyJ` header + `.eyJ` payload + signature; unsigned (`alg: none`, empty signature) too", "www.rfc-editor.org/rfc/rfc7519", 0, "jwt")

add("basic-auth-header", r"(?i)\bAuthorization[\"']?\s*[:=]\s*[\"']?Basic\s+([A-Za-z0-9+/]{12,}={0,2})", ["basic"], "`Authorization: Basic` + base64 of user:password", "www.rfc-editor.org/rfc/rfc7617", 3.0, "basic", 1)
add("bearer-token", r"(?i)\bAuthorization[\"']?\s*[:=]\s*[\"']?Bearer\s+([A-Za-z0-9._~+/-]{20,}=*)", ["bearer"], "`Authorization: Bearer` + a token of 20+ characters", "www.rfc-editor.org/rfc/rfc6750#section-2.1", 3.5, "secret", 1)

# ---- Generic assignments ------------------------------------------------------------
NAMES = (r"api[_.-]?keys?|apikeys?|api[_.-]?secret|app[_.-]?(?:key|secret)|secret[_.-]?keys?|secrets?|client[_.-]?secret|"
         r"access[_.-]?(?:token|key|secret)|auth[_.-]?(?:token|key)?|refresh[_.-]?token|bearer(?:[_.-]?token)?|tokens?|"
         r"private[_.-]?key|signing[_.-]?(?:key|secret)|encryption[_.-]?key|master[_.-]?key|session[_.-]?(?:key|secret|token)|"
         r"passwords?|passwd|pass[_.-]?phrase|passphrase|pwd|pass|credentials?|creds|webhook[_.-]?secret|"
         r"(?:db|database|admin|root|smtp|mail|ldap|redis|mysql|postgres|pg|sql)[_.-]?(?:pass(?:word)?|pwd)")
NOT_SUFFIX = r"(?!(?:ids?|count|counts|type|types|len|length|limit|limits|url|uri|urls|name|names|file|path|usage|expir\w*|endpoint|header|format|size|max|min|ttl|hash|digest|checksum|policy|field|prompt|label|hint|input|reset|required|validator|strength|manager|store|provider|enabled|rotation)(?![a-z0-9]))"
NAME = r"(?<![a-z0-9])(?:[a-z0-9]+[_.-])*(?:%s)(?:[_.-]%s[a-z0-9]+)*" % (NAMES, NOT_SUFFIX)
VALUE = r"([A-Za-z0-9_./+=~!@#$%^*:-]{6,256})"
# code/env/YAML/JSON: name, optional quote, = : => :=, optional quote, value
# (the lookahead first: only an identifier directly followed by = or : is
# compared with the names, so prose costs one pass over each word)
add("generic-secret", r"(?i)(?<![\w-])(?=[\w.-]{1,80}[\"']?\]?[ \t]*(?:=>|:=|[:=]))(?:--|-)?%s[\"']?\]?[ \t]*(?:=>|:=|[:=])[ \t]*(?:\"|'|`)?%s" % (NAME, VALUE.replace("6,", "8,")),
    ["key", "secret", "token", "pass", "pwd", "cred", "auth", "bearer"], "a name like `api_key`, `DB_PASSWORD`, `clientSecret`, `x-auth-token` (any case, `_` `-` `.` separators, prefixes and suffixes) assigned in code, env, YAML, JSON, URL query or `--flag=value`; entropy and placeholder gate", "this project (gitleaks/detect-secrets idea)", 0, "secret", 1)
# CLI flag with a space: --password hunter2x9, --api-key sk...
add("generic-secret", r"(?i)(?<![\w-])--%s[ \t]+(?![-\"'])%s" % (NAME, VALUE.replace("6,", "8,")), ["--"], None, None, 0, "secret", 1)
# JSON object whose key names a secret: {"client_secret": "..."}
TYPES.append(("generic-secret", None, None, 0, "secret", 0, None, None))

def pattern_json(name, regex, keywords, entropy, validator, group):
    d = {"name": name, "regex": regex}
    if group:
        d["group"] = group
    exact = [k[1:] for k in keywords or [] if k.startswith("=")]
    keywords = [k for k in keywords or [] if not k.startswith("=")]
    if keywords:
        d["keywords"] = sorted(set(k.lower() for k in keywords))
    if exact:
        d["caseKeywords"] = sorted(set(exact))
    if entropy:
        d["minEntropy"] = entropy
    if validator and validator != "none":
        d["validator"] = validator
    d["mask"] = "secret"
    return json.dumps(d, ensure_ascii=False)


KEY_PATTERN = json.dumps({"name": "generic-secret", "keyRegex": "(?i)(?:^|[_.-]|(?<=[a-z0-9])(?=(?-i:[A-Z])))(?:%s)$" % NAMES,
                          "regex": "^[^\\s]{8,256}$", "validator": "secret", "mask": "secret"})

lines = []
order = sorted(range(len(TYPES)), key=lambda i: i not in CONTEXTUAL)
for name, regex, kw, ent, val, grp, facts, src in (TYPES[i] for i in order):
    if regex is None:
        lines.append(KEY_PATTERN)
    else:
        re.compile(regex.replace("(?<![\\w:/])", "(?<![\\w:])"))  # Python can check most of it
        lines.append(pattern_json(name, regex, kw, ent, val, grp))

path = os.path.join(root, "policy", "builtin.json")
text = open(path, encoding="utf-8").read()
start = text.index('"id": "credentials"')
ps = text.index('"patterns": [\n', start) + len('"patterns": [\n')
pe = text.index("\n\t\t],\n", ps)
body = ",\n".join("\t\t\t" + l for l in lines)
text = text[:ps] + body + text[pe:]
open(path, "w", encoding="utf-8").write(text)

names = []
for name, regex, kw, ent, val, grp, facts, src in TYPES:
    if facts:
        names.append((name, facts, src))
doc = ["| type | key-format facts | source of truth |", "|---|---|---|"]
for name, facts, src in sorted(names):
    s = src if src.startswith("this project") else "https://" + src
    doc.append("| `%s` | %s | %s |" % (name, facts.replace("|", "\\|"), s))
dpath = os.path.join(root, "docs", "policy.md")
d = open(dpath, encoding="utf-8").read()
a = d.index("<!-- secret-types -->") + len("<!-- secret-types -->\n")
b = d.index("<!-- /secret-types -->")
d = d[:a] + "\n".join(doc) + "\n" + d[b:]
open(dpath, "w", encoding="utf-8").write(d)
print("%d secret types, %d patterns" % (len(set(n for n, *_ in TYPES)), len(lines)))
