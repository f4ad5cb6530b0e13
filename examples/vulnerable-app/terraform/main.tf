# Deliberately insecure infrastructure for Tollgate's demo. NEVER APPLY.

resource "aws_security_group" "app" {
  name        = "vulnerable-app"
  description = "Deliberately open security group of the example app"

  ingress {
    description = "SSH from anywhere"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    description = "all outbound"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
