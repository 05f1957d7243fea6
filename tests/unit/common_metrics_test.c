#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "metrics.h"
#include "t.h"

static cJSON *parse(const char *s)
{
	lg_json_error e;
	return lg_json_parse(s, strlen(s), &e);
}

int main(void)
{
	cJSON *r = parse("{\"duration\":1000,\"metadata\":{\"keep\":1},\"spans\":["
			 "{\"type\":\"span\",\"startTime\":\"2025-01-01T00:00:00.000Z\",\"endTime\":\"2025-01-01T00:00:01.000Z\"},"
			 "{\"type\":\"llm\",\"model\":\"gpt-4o-mini\",\"tokens\":{\"input\":10,\"output\":5,\"total\":15},\"cost\":0.1,\"duration\":300,\"level\":\"WARNING\",\"ttftMs\":120,\"startTime\":\"2025-01-01T00:00:00.100Z\"},"
			 "{\"type\":\"llm\",\"model\":\"gpt-4o\",\"tokens\":{\"input\":100,\"output\":50},\"cost\":0.2,\"duration\":400,\"startTime\":\"2025-01-01T00:00:00.500Z\"},"
			 "{\"type\":\"retrieval\",\"duration\":200,\"model\":\"text-embedding-3\"},"
			 "{\"type\":\"tool\",\"duration\":50}]}");
	T_OK(lg_metrics_apply(r, 0) == 0, "apply");
	double v;
	T_OK(lg_json_get_num(lg_json_path(r, "metadata.tokens"), "total", &v) && v == 165, "total tokens (missing total = in+out)");
	T_OK(lg_json_get_num(lg_json_path(r, "metadata.tokens"), "input", &v) && v == 110, "input tokens");
	T_OK(lg_json_get_num(lg_json_get(r, "metadata"), "cost", &v) && v == 0.3, "cost rounded sum is 0.3");
	T_STR(lg_json_string(lg_json_path(r, "metadata.model")), "gpt-4o", "model = llm span with most tokens");
	char *models = lg_json_to_string(lg_json_path(r, "metadata.models"));
	T_STR(models, "[\"gpt-4o-mini\",\"gpt-4o\",\"text-embedding-3\"]", "models in first-seen order");
	free(models);
	char *lat = lg_json_to_string(lg_json_path(r, "metadata.latency"));
	T_STR(lat, "{\"totalMs\":1000,\"llmMs\":700,\"retrievalMs\":200,\"toolMs\":50,\"otherMs\":50,\"ttftMs\":120}", "latency breakdown");
	free(lat);
	T_STR(lg_json_str(r, "status"), "warning", "status from WARNING level");
	T_OK(lg_json_path(r, "metadata.keep") != NULL, "existing metadata kept");
	cJSON_Delete(r);

	r = parse("{\"spans\":[{\"type\":\"span\",\"level\":\"ERROR\",\"startTime\":\"2025-01-01T00:00:00.000Z\",\"endTime\":\"2025-01-01T00:00:02.500Z\"},"
		  "{\"type\":\"llm\",\"level\":\"WARNING\",\"startTime\":\"2025-01-01T00:00:03.000Z\",\"endTime\":\"2025-01-01T00:00:04.000Z\"}]}");
	lg_metrics_apply(r, LG_METRICS_DURATION_FROM_SPANS);
	T_OK(lg_json_get_num(r, "duration", &v) && v == 4000, "duration from span times");
	T_STR(lg_json_str(r, "status"), "error", "ERROR beats WARNING");
	T_OK(cJSON_IsNull(lg_json_path(r, "metadata.model")), "no model -> null");
	cJSON_Delete(r);

	r = parse("{\"spans\":[]}");
	lg_metrics_apply(r, LG_METRICS_DURATION_FROM_SPANS);
	T_STR(lg_json_str(r, "status"), "success", "no spans -> success");
	T_OK(lg_json_get_num(lg_json_path(r, "metadata.tokens"), "total", &v) && v == 0, "no spans -> zero tokens");
	cJSON_Delete(r);
	return t_done();
}
