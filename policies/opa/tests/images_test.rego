# IMG-*: tags in dev, digests where images are pinned, and only vetted sources everywhere.
package votingplatform.tests.images

import rego.v1

import data.votingplatform.policies.images
import data.votingplatform.tests.fixtures as fx

_running(image) := [fx.web({"image": image})]

_tagged := "ghcr.io/votingplatform/vote:1.4.2"

_database(image) := {
	"apiVersion": "postgresql.cnpg.io/v1",
	"kind": "Cluster",
	"metadata": {"name": "db", "namespace": "voting-prod"},
	"spec": {"instances": 3, "imageName": image},
}

# IMG-001

test_img_001_passes_for_a_version_tag_in_dev if {
	fx.ids(images.findings) == set() with input as _running(_tagged) with data.votingplatform.env as fx.dev
}

test_img_001_fires_for_latest_in_dev if {
	fx.ids(images.findings) == {"IMG-001"} with input as _running("ghcr.io/votingplatform/vote:latest")
		with data.votingplatform.env as fx.dev
}

test_img_001_fires_without_a_tag_in_dev if {
	fx.ids(images.findings) == {"IMG-001"} with input as _running("ghcr.io/votingplatform/vote")
		with data.votingplatform.env as fx.dev
}

test_img_001_fires_when_the_only_colon_is_a_registry_port if {
	fx.ids(images.findings) == {"IMG-001", "IMG-003"} with input as _running("localhost:5000/vote")
		with data.votingplatform.env as fx.dev
}

# IMG-002

test_img_002_passes_for_a_digest_in_staging if {
	fx.ids(images.findings) == set() with input as _running(fx.image) with data.votingplatform.env as fx.staging
}

test_img_002_fires_for_a_tag_in_staging if {
	fx.ids(images.findings) == {"IMG-002"} with input as _running(_tagged) with data.votingplatform.env as fx.staging
}

test_img_002_fires_for_a_truncated_digest_in_prod if {
	fx.ids(images.findings) == {"IMG-002"} with input as _running("ghcr.io/votingplatform/vote@sha256:abc")
		with data.votingplatform.env as fx.prod
}

test_img_002_fires_for_a_tagged_postgres_image_in_prod if {
	fx.ids(images.findings) == {"IMG-002"} with input as [_database("ghcr.io/cloudnative-pg/postgresql:16.4")]
		with data.votingplatform.env as fx.prod
}

test_img_002_passes_for_a_postgres_image_by_digest_in_prod if {
	image := concat("@", ["ghcr.io/cloudnative-pg/postgresql", fx.digest])
	fx.ids(images.findings) == set() with input as [_database(image)] with data.votingplatform.env as fx.prod
}

test_img_002_fires_for_a_tag_without_env_data if {
	fx.ids(images.findings) == {"IMG-002"} with input as _running(_tagged)
}

# IMG-003

test_img_003_passes_for_a_vetted_third_party_image if {
	fx.ids(images.findings) == set() with input as _running("docker.io/curlimages/curl:8.11.0")
		with data.votingplatform.env as fx.dev
}

test_img_003_fires_for_an_unvetted_repository_on_an_allowed_registry if {
	image := concat("@", ["docker.io/bitnami/redis", fx.digest])
	fx.ids(images.findings) == {"IMG-003"} with input as _running(image) with data.votingplatform.env as fx.prod
}

test_img_003_fires_for_an_implicit_docker_hub_reference if {
	fx.ids(images.findings) == {"IMG-003"} with input as _running(concat("@", ["redis", fx.digest]))
		with data.votingplatform.env as fx.prod
}

test_img_003_fires_for_a_look_alike_organisation if {
	image := concat("@", ["ghcr.io/votingplatform-dev/vote", fx.digest])
	fx.ids(images.findings) == {"IMG-003"} with input as _running(image) with data.votingplatform.env as fx.prod
}

test_img_003_checks_init_containers_too if {
	some finding in images.findings with input as [fx.web_with("initContainers", {"image": concat("@", ["busybox", fx.digest])})]
	finding.policy == "IMG-003"
	startswith(finding.detail, "spec.template.spec.initContainers[0].image busybox@")
}
