"""What happens when: each social action stores first (chatapp.social, the data layer),
then tells the sockets (chatapp.realtime). Above both, and above accounts."""
