# Argo CD: what may deploy where, and prod converging to git on its own.
package votingplatform.policies.argocd

import rego.v1

import data.votingplatform.lib

_is_argocd(obj) if startswith(obj.apiVersion, "argoproj.io/")

# Application specs: Applications themselves and the template of an ApplicationSet.
_app_specs contains {"obj": lib.identity(obj), "spec": obj.spec, "path": "spec"} if {
	some obj in lib.objects
	_is_argocd(obj)
	obj.kind == "Application"
}

_app_specs contains {"obj": lib.identity(obj), "spec": obj.spec.template.spec, "path": "spec.template.spec"} if {
	some obj in lib.objects
	_is_argocd(obj)
	obj.kind == "ApplicationSet"
}

findings contains lib.finding("ACD-001", app.obj, msg) if {
	some app in _app_specs
	object.get(app.spec, "project", "default") == "default"
	msg := concat("", [app.path, ".project is default (which allows any repo and destination); use the platform AppProject"])
}

_projects := [obj | some obj in lib.objects; _is_argocd(obj); obj.kind == "AppProject"]

findings contains lib.finding("ACD-002", obj, msg) if {
	some obj in _projects
	"*" in object.get(obj, ["spec", "sourceRepos"], [])
	msg := "spec.sourceRepos contains *; list the platform repository explicitly"
}

findings contains lib.finding("ACD-002", obj, msg) if {
	some obj in _projects
	some i, destination in object.get(obj, ["spec", "destinations"], [])
	some field in ["server", "namespace", "name"]
	destination[field] == "*"
	msg := concat("", ["spec.destinations", lib.index(i), ".", field, " is *; name the cluster and the voting namespaces"])
}

findings contains lib.finding("ACD-003", obj, msg) if {
	some obj in _projects
	some i, entry in object.get(obj, ["spec", "clusterResourceWhitelist"], [])
	entry.kind == "*"
	msg := concat("", ["spec.clusterResourceWhitelist", lib.index(i), " allows every cluster-scoped kind; list the kinds the platform needs"])
}

# The namespaces of production envs come as data (`votingplatform.production_namespaces`, from
# gitops/promotion.yaml); without that list every Application is held to production's rule. (Not
# `not is_array(data...)`: OPA evaluates a call's arguments outside `not`, so without data that is
# undefined rather than true.)
_listed_production_namespaces := data.votingplatform.production_namespaces if is_array(data.votingplatform.production_namespaces)

_deploys_production(_) if {
	not _listed_production_namespaces
}

_deploys_production(app) if {
	object.get(app.spec, ["destination", "namespace"], "") in data.votingplatform.production_namespaces
}

# An ApplicationSet template may render a production Application: it must carry the same guarantees.
_deploys_production(app) if app.obj.kind == "ApplicationSet"

findings contains lib.finding("ACD-004", app.obj, msg) if {
	some app in _app_specs
	_deploys_production(app)
	not _self_healing(object.get(app.spec, ["syncPolicy", "automated"], {})) # object.get: OPA hoists call args out of `not`
	msg := concat("", [app.path, ".syncPolicy.automated.selfHeal is not true for a production env; enable automated sync with selfHeal so drift is reverted to git"])
}

# `automated: {enabled: false}` (Argo CD 3.x) switches automation off while keeping the block.
_self_healing(automated) if {
	automated.selfHeal == true
	not automated.enabled == false
}
