# A self-hosted CI runner AMI with docker-credential-ecr-login baked in: docker on the instance pulls
# from ECR with the instance profile (or, inside an ECS task, the task role) at run time. No
# `docker login`, no rc.local, no credentials in the image. x86_64 or arm64 (Graviton).
#
#   npm ci && npm run build          # dist/docker-credential-ecr-login-linux-amd64 and -arm64
#   packer init packer/              # installs the amazon plugin (Packer 1.7 and later)
#   packer validate packer/
#   packer build -var arch=arm64 -var 'registries=["123456789012.dkr.ecr.us-west-2.amazonaws.com"]' packer/
#
# CI validates it with Debian's packer 1.6.6, which has the amazon builder built in, after removing
# the `packer {}` block and the lines marked `packer >= 1.7` (scripts/check-artifacts.sh).

packer { # packer >= 1.7
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.3.0"
    }
  }
}

variable "region" {
  type        = string
  default     = "us-west-2"
  description = "Region to build the AMI in."
}

variable "arch" {
  type        = string
  default     = "x86_64"
  description = "x86_64 or arm64 (Graviton): picks the source AMI, the instance type and the executable."
  validation {
    condition     = contains(["x86_64", "arm64"], var.arch)
    error_message = "The arch variable must be x86_64 or arm64."
  }
}

variable "source_ami_name" {
  type        = string
  default     = ""
  description = "Name filter for the source AMI (the newest match is used; default: Ubuntu 24.04 for arch). Amazon Linux 2023: al2023-ami-2023.*-x86_64 (or -arm64) with owner 137112412989."
}

variable "source_ami_owners" {
  type        = list(string)
  default     = ["099720109477"]
  description = "Accounts that may own the source AMI (099720109477: Canonical)."
}

variable "instance_type" {
  type        = string
  default     = ""
  description = "The build instance (default: t3.small for x86_64, t4g.small for arm64)."
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
  description = "The single executable to bake in (default: this repository's dist/docker-credential-ecr-login-linux-amd64 or -arm64, from npm run build)."
}

locals {
  timestamp     = regex_replace(timestamp(), "[- TZ:]", "")
  registry_args = join(" ", [for r in var.registries : "--registry ${r}"])
  repo          = "${path.root}/.."
  # Debian's and the Go helper's name for each architecture.
  deb_arch        = var.arch == "arm64" ? "arm64" : "amd64"
  source_ami_name = var.source_ami_name != "" ? var.source_ami_name : "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-${local.deb_arch}-server-*"
  instance_type   = var.instance_type != "" ? var.instance_type : (var.arch == "arm64" ? "t4g.small" : "t3.small")
  helper_binary   = var.helper_binary != "" ? var.helper_binary : "${local.repo}/dist/docker-credential-ecr-login-linux-${local.deb_arch}"
}

source "amazon-ebs" "runner" {
  region        = var.region
  instance_type = local.instance_type
  ssh_username  = var.ssh_username
  ami_name      = "${var.ami_name_prefix}-${var.arch}-${local.timestamp}"
  # Instances launched from the AMI use IMDSv2 only.
  imds_support = "v2.0" # packer >= 1.7

  # The build instance, too: tokens required, and a hop limit of 2 so that containers (docker in
  # docker) on an instance reach the instance role.
  metadata_options { # packer >= 1.7
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 2
  }

  source_ami_filter {
    filters = {
      name                = local.source_ami_name
      architecture        = var.arch
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
    owners      = var.source_ami_owners
    most_recent = true
  }

  tags = {
    Name           = "${var.ami_name_prefix}-${var.arch}-${local.timestamp}"
    "ecr-login"    = "docker-credential-ecr-login"
    "ecr-login:at" = local.timestamp
    Architecture   = var.arch
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
