# A self-hosted CI runner AMI with docker-credential-ecr-login baked in: docker on the instance pulls
# from ECR with the instance profile (or, inside an ECS task, the task role) at run time. No
# `docker login`, no rc.local, no credentials in the image.
#
#   npm ci && npm run build          # dist/docker-credential-ecr-login, the single executable
#   packer validate packer/
#   packer build -var 'registries=["123456789012.dkr.ecr.us-west-2.amazonaws.com"]' packer/
#
# Written for packer 1.6.6 (Debian's), which has the amazon builders built in. A newer packer (1.7+)
# would add, and `packer init` would then install:
#   packer {
#     required_plugins {
#       amazon = { source = "github.com/hashicorp/amazon", version = ">= 1.3.0" }
#     }
#   }
# and on the source: `imds_support = "v2.0"` (instances from the AMI default to IMDSv2) and a
# `metadata_options { http_tokens = "required" }` block for the build instance itself.

variable "region" {
  type        = string
  default     = "us-west-2"
  description = "Region to build the AMI in."
}

variable "source_ami_name" {
  type        = string
  default     = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"
  description = "Name filter for the source AMI (the newest match is used). Amazon Linux 2023: al2023-ami-2023.*-x86_64 with owner 137112412989."
}

variable "source_ami_owners" {
  type        = list(string)
  default     = ["099720109477"]
  description = "Accounts that may own the source AMI (099720109477: Canonical)."
}

variable "instance_type" {
  type    = string
  default = "t3.small"
}

variable "ssh_username" {
  type        = string
  default     = "ubuntu"
  description = "Login user of the source AMI: ubuntu for Ubuntu, ec2-user for Amazon Linux."
}

variable "registries" {
  type        = list(string)
  default     = []
  description = "ECR registry hosts to route to the helper, e.g. 123456789012.dkr.ecr.us-west-2.amazonaws.com. public.ecr.aws is always added."
}

variable "runner_user" {
  type        = string
  default     = "runner"
  description = "The CI runner's user: created if missing, added to the docker group, given the docker config."
}

variable "ami_name_prefix" {
  type    = string
  default = "ci-runner-ecr-login"
}

variable "helper_binary" {
  type        = string
  default     = ""
  description = "The single executable to bake in (default: dist/docker-credential-ecr-login of this repository, from npm run build)."
}

locals {
  timestamp     = regex_replace(timestamp(), "[- TZ:]", "")
  registry_args = join(" ", [for r in var.registries : "--registry ${r}"])
  repo          = "${path.root}/.."
  helper_binary = var.helper_binary != "" ? var.helper_binary : "${local.repo}/dist/docker-credential-ecr-login"
}

source "amazon-ebs" "runner" {
  region        = var.region
  instance_type = var.instance_type
  ssh_username  = var.ssh_username
  ami_name      = "${var.ami_name_prefix}-${local.timestamp}"

  source_ami_filter {
    filters = {
      name                = var.source_ami_name
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
    owners      = var.source_ami_owners
    most_recent = true
  }

  tags = {
    Name           = "${var.ami_name_prefix}-${local.timestamp}"
    "ecr-login"    = "docker-credential-ecr-login"
    "ecr-login:at" = local.timestamp
  }
}

build {
  sources = ["source.amazon-ebs.runner"]

  provisioner "file" {
    source      = local.helper_binary
    destination = "/tmp/docker-credential-ecr-login"
  }

  provisioner "file" {
    source      = "${local.repo}/scripts/install.sh"
    destination = "/tmp/ecr-login-install.sh"
  }

  # Docker and the runner user, if the source AMI has neither.
  provisioner "shell" {
    script           = "${path.root}/prepare-host.sh"
    environment_vars = ["RUNNER_USER=${var.runner_user}"]
    execute_command  = "chmod +x {{ .Path }}; sudo env {{ .Vars }} sh {{ .Path }}"
  }

  # The helper in /usr/local/bin, credHelpers in root's and the runner's ~/.docker/config.json.
  provisioner "shell" {
    inline = [
      "sudo sh /tmp/ecr-login-install.sh --binary /tmp/docker-credential-ecr-login --user root --user ${var.runner_user} ${local.registry_args}",
      "rm -f /tmp/docker-credential-ecr-login /tmp/ecr-login-install.sh",
      "docker-credential-ecr-login version",
    ]
  }
}
