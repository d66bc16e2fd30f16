# Images and supply chain: what runs is exactly what was built, scanned and signed.
package votingplatform.policies.images

import rego.v1

import data.votingplatform.config
import data.votingplatform.lib

# Every image reference with the object carrying it and the path of its field: workload containers and
# the CloudNativePG Cluster's PostgreSQL image.
_images contains {"obj": w.id, "path": concat("", [entry.path, ".image"]), "image": entry.container.image} if {
	some w in lib.workloads
	some entry in w.containers
}

_images contains {"obj": lib.identity(obj), "path": "spec.imageName", "image": obj.spec.imageName} if {
	some obj in lib.objects
	obj.kind == "Cluster"
	startswith(obj.apiVersion, "postgresql.cnpg.io/")
	obj.spec.imageName
}

digest_pinned(image) if regex.match(`@sha256:[a-f0-9]{64}$`, image)

# The tag of a reference, empty when none (a ':' after the last '/' starts the tag).
_tag(image) := "" if digest_pinned(image)

_tag(image) := tag if {
	not digest_pinned(image)
	parts := split(image, "/")
	last := parts[count(parts) - 1]
	contains(last, ":")
	tag := split(last, ":")[1]
}

_tag(image) := "" if {
	not digest_pinned(image)
	parts := split(image, "/")
	not contains(parts[count(parts) - 1], ":")
}

findings contains lib.finding("IMG-001", ref.obj, msg) if {
	some ref in _images
	_tag(ref.image) == ""
	not digest_pinned(ref.image)
	msg := concat("", [ref.path, " ", ref.image, " has no tag or digest; pin a version tag (dev) or a digest"])
}

findings contains lib.finding("IMG-001", ref.obj, msg) if {
	some ref in _images
	_tag(ref.image) == "latest"
	msg := concat("", [ref.path, " ", ref.image, " uses the latest tag; pin a version tag (dev) or a digest"])
}

findings contains lib.finding("IMG-002", ref.obj, msg) if {
	lib.pinned_env
	some ref in _images
	not digest_pinned(ref.image)
	msg := concat("", [ref.path, " ", ref.image, " is not pinned by digest in ", lib.env_name, "; promote it as name@sha256:<digest>"])
}

findings contains lib.finding("IMG-003", ref.obj, msg) if {
	some ref in _images
	not strings.any_prefix_match(ref.image, config.allowed_image_prefixes)
	msg := concat("", [ref.path, " ", ref.image, " is not from an allowed source; use ghcr.io/votingplatform/ or add the vetted repository to allowed_image_prefixes in policies/opa/lib/config.rego"])
}
